"""Mojibake repair: finds exactly the mis-decoded spans, minimal, and leaves correct
text (curly quotes, every script, NFD, ligatures, entities) alone."""

from __future__ import annotations

from pathlib import Path

import ftfy
import pytest

from workbench.io.text_import import read_document
from workbench.io.text_repair import Repair, apply_repairs, context_of, find_repairs, show

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MOJIBAKE_FILE = "putin-orders-withdrawal.txt"


def test_sample_corpus_has_exactly_the_one_known_case() -> None:
    found = {}
    for path in sorted(CORPUS.glob("*.txt")):
        text = read_document(path).text
        repairs = find_repairs(text)
        if repairs:
            found[path.name] = (text, repairs)
    assert list(found) == [MOJIBAKE_FILE]
    text, repairs = found[MOJIBAKE_FILE]
    start = text.index("¬†")
    assert repairs == [Repair(start, start + 2, "¬†", "\xa0")]
    fixed = apply_repairs(text, repairs)
    assert fixed == text[:start] + "\xa0" + text[start + 2 :]
    assert "controls\xa0 a large portion" in fixed


def test_ftfy_defaults_would_rewrite_correct_corpus_text() -> None:
    # Why the fixer is restricted: its defaults uncurl the corpus's quotes.
    text = read_document(CORPUS / MOJIBAKE_FILE).text
    assert "“" in text and "“" not in ftfy.fix_text(text)
    assert apply_repairs(text, find_repairs(text)).count("“") == text.count("“")


CORRECT = [
    "“quoted” ‘single’ — – … naïve café façade Ærø",
    "Привет, мир! Как дела? Путин приказал",
    "مرحبا بالعالم — بوتين",
    "😀👍🏽 👨\u200d👩\u200d👧 🪖",
    "中文 日本語 한국어",
    "ﬁle ＡＢＣ &amp; &lt;b&gt; e\u0301 A\u030a",  # ligature, full width, entities, NFD
    "El Niño “Ñandú” Señor · Straße Ĳ",
    "À bientôt, Âge, Ça va",
    "€100 ©2016 ®™ ½ ¼ × ÷ ± §5 ¶",
    "¬ logic ¬p † dagger ‡",
    "Ω ≈ ç √ ∫ ∞ µ",
    "line one\r\nline two\ttab\x0c",
]


@pytest.mark.parametrize("text", CORRECT)
def test_correct_text_is_left_alone(text: str) -> None:
    assert find_repairs(text) == []


@pytest.mark.parametrize(
    ("damaged", "expected"),
    [
        ("controls¬† a", "controls\xa0 a"),  # UTF-8 read as Mac Roman
        ("a cafÃ© in Paris", "a café in Paris"),  # UTF-8 read as cp1252
        ("they donâ€™t know", "they don’t know"),
        ("the “cafÃ©” and ‘Ã¼ber’", "the “café” and ‘über’"),  # next to correct quotes
        ("ÃƒÂ©t", "ét"),  # mis-decoded twice
        ("Ð¿Ñ€Ð¸Ð²ÐµÑ‚ world", "привет world"),
        ("\x93quoted\x94", "“quoted”"),  # cp1252 read as Latin-1
        ("naïve and naÃ¯ve", "naïve and naïve"),
    ],
)
def test_mojibake_is_repaired(damaged: str, expected: str) -> None:
    repairs = find_repairs(damaged)
    assert repairs
    assert apply_repairs(damaged, repairs) == expected
    for repair in repairs:
        assert damaged[repair.start : repair.end] == repair.before


def test_spans_are_minimal_and_in_order() -> None:
    text = "“Ã©” and donâ€™t"
    assert find_repairs(text) == [
        Repair(1, 3, "Ã©", "é"),
        Repair(12, 15, "â€™", "’"),
    ]


def test_offsets_are_code_points_past_astral_characters() -> None:
    text = "🪖𝐀 cafÃ©"  # two astral characters: UTF-16 would say 8 and 10
    (repair,) = find_repairs(text)
    assert (repair.start, repair.end) == (6, 8)
    assert text[repair.start : repair.end] == "Ã©"


def test_apply_checks_the_repairs_belong_to_the_text() -> None:
    text = "cafÃ© and cafÃ©"
    repairs = find_repairs(text)
    assert apply_repairs(text, list(reversed(repairs))) == "café and café"
    with pytest.raises(ValueError, match="does not match"):
        apply_repairs("something else entirely", repairs)
    with pytest.raises(ValueError, match="overlap"):
        apply_repairs(text, [Repair(3, 5, "Ã©", "é"), Repair(4, 5, "©", "c")])
    assert apply_repairs(text, []) == text


def test_preview_helpers() -> None:
    repair = Repair(9, 11, "¬†", "\xa0")
    assert repair.label == "¬† → ‹NBSP›"
    assert show("a\u200bb\u0301 c") == "a‹ZWSP›b‹U+0301› c"
    assert show(" Â ") == "‹SPACE›Â‹SPACE›"  # a space at either end would be invisible
    text = "first line\nwhich controls¬† a large portion\nlast"
    (found,) = find_repairs(text)
    assert context_of(text, found, width=8) == ("controls", " a large")
    assert context_of(text, found, width=100) == ("which controls", " a large portion")
