from workbench.core.text import context, detect_direction, short_quote


def test_direction_by_majority_of_strong_characters() -> None:
    assert detect_direction("Putin ordered the withdrawal.") == "ltr"
    assert detect_direction("2016-03-14 أعلن الرئيس الروسي سحب القوات من سوريا") == "rtl"
    assert detect_direction("Moscow: انسحاب") == "ltr"
    assert detect_direction("") == "ltr"


def test_short_quote_is_one_line_with_middle_ellipsis() -> None:
    assert short_quote("a\nb  c") == "a b c"
    quote = short_quote("word " * 50, limit=21)
    assert len(quote) <= 21 and quote.startswith("word") and "…" in quote and "\n" not in quote


def test_context_slices_exactly() -> None:
    text = "0123456789\nabcdef"
    before, passage, after = context(text, 5, 12, width=3)
    assert (before, passage, after) == ("234", "56789\na", "bcd")
