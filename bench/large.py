"""The large synthetic project of issue 6: 5,000 corpus-like articles, 250,000 segments
by 3 coders over 200 codes, 20,000 links, written with bulk SQL into a file made by
`create_project` (so the schema, triggers and FTS index are the real ones).

The file is cached under bench/.cache/ keyed by the generator version and the schema
revision, so repeated runs only pay for it once. `python -m bench.large PATH` writes one.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
import uuid as uuid_mod
from contextlib import closing
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
CACHE = Path(__file__).resolve().parent / ".cache"

GENERATOR_VERSION = 1  # bump when the generated content changes
SEED = 20160314
DOCUMENTS = 5_000
SEGMENTS = 250_000
CODERS = ("alice", "bob", "carol")
CODES = 200
LINKS = 20_000
# The two articles the open/coding measurements use: 21,000 characters each, with
# this many segments; they are the last two documents in project order.
HEAVY_CHARS = 21_000
HEAVY = (600, 2_000)
OUTLETS = ("RISE NEWS", "Alwaght", "Reuters", "Al Jazeera", "TASS", "BBC", "RT", "AFP")


def cache_path() -> Path:
    from workbench.storage import migrate

    return CACHE / f"large-v{GENERATOR_VERSION}-rev{migrate.head_revision()}.wbp"


def paragraphs() -> list[str]:
    """The corpus's paragraphs of some length: the material every article is made of."""
    out: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        out += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n")]
    return [p for p in out if len(p) > 40]


def heavy_text(variant: str, pool: list[str]) -> str:
    """About HEAVY_CHARS characters of corpus prose (as bench.__main__ builds them)."""
    out, size, i = [f"Benchmark article ({variant})"], 0, 0
    while size < HEAVY_CHARS:
        out.append(pool[i % len(pool)])
        size += len(pool[i % len(pool)]) + 2
        i += 1
    return "\n\n".join(out)[:HEAVY_CHARS].rstrip() + "\n"


def _uuid(rng: random.Random) -> str:
    return str(uuid_mod.UUID(int=rng.getrandbits(128), version=4))


def _stamp(base: datetime, seconds: float) -> str:
    moment = base + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def generate(path: Path, *, seed: int = SEED, log: bool = True) -> dict[str, float]:
    """Write the large project to `path` (which must not exist); timings in seconds."""
    from workbench.services.project import create_project

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    create_project(path, name="Large benchmark project").close()
    rng = random.Random(seed)
    pool = paragraphs()
    base = datetime(2017, 12, 14, 9, 0, tzinfo=UTC)
    con = sqlite3.connect(path, isolation_level=None)
    with closing(con):
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")  # a generated file: redo it if the power fails
        con.execute("PRAGMA cache_size=-200000")
        con.execute("BEGIN")

        # Coders and the codebook: the 3 default codes plus children, 200 in all, as a
        # tree of 20 top-level codes with 9 children each.
        coders = []
        for i, name in enumerate(CODERS):
            con.execute(
                "INSERT INTO coder (uuid, name, color, created_at) VALUES (?, ?, ?, ?)",
                (_uuid(rng), name, ("#4c72b0", "#dd8452", "#55a868")[i], _stamp(base, i)),
            )
            coders.append(con.execute("SELECT last_insert_rowid()").fetchone()[0])
        tops = [row[0] for row in con.execute("SELECT id FROM code ORDER BY sort_order")]
        for n in range(len(tops), 20):
            con.execute(
                "INSERT INTO code (uuid, name, color, description, shortcut, sort_order, memo,"
                " created_at) VALUES (?, ?, ?, '', '', ?, '', ?)",
                (_uuid(rng), f"theme {n + 1:02d}", f"#{rng.getrandbits(24):06x}", n,
                 _stamp(base, n)),
            )  # fmt: skip
            tops.append(con.execute("SELECT last_insert_rowid()").fetchone()[0])
        children = [
            (_uuid(rng), top, f"aspect {k + 1}", f"#{rng.getrandbits(24):06x}", k, _stamp(base, k))
            for top in tops
            for k in range(CODES // len(tops) - 1)
        ]
        con.executemany(
            "INSERT INTO code (uuid, parent_id, name, color, description, shortcut, sort_order,"
            " memo, created_at) VALUES (?, ?, ?, ?, '', '', ?, '', ?)",
            children,
        )
        codes = [row[0] for row in con.execute("SELECT id FROM code")]
        assert len(codes) == CODES, len(codes)

        # Documents: shuffled runs of corpus paragraphs, each with a unique header line
        # (document text and sha256 are unique), 2,000–6,000 characters.
        docs: list[tuple] = []
        lengths: list[int] = []
        for n in range(DOCUMENTS):
            if n >= DOCUMENTS - len(HEAVY):
                count = HEAVY[n - (DOCUMENTS - len(HEAVY))]
                body = heavy_text(f"{count} segments", pool)
            else:
                target = rng.randint(2_000, 6_000)
                parts = [f"Article {n + 1} of the benchmark corpus"]
                size = 0
                while size < target:
                    paragraph = rng.choice(pool)
                    parts.append(paragraph)
                    size += len(paragraph) + 2
                body = "\n\n".join(parts) + "\n"
            name = f"article-{n + 1:05d}"
            lengths.append(len(body))
            docs.append(
                (_uuid(rng), name, body, sha256(body.encode("utf-8")).hexdigest(), len(body),
                 f"{name}.txt", _stamp(base, n), n)
            )  # fmt: skip
        con.executemany(
            "INSERT INTO document (uuid, name, text, sha256, length, source_name, imported_at,"
            " direction, sort_order, memo) VALUES (?, ?, ?, ?, ?, ?, ?, 'ltr', ?, '')",
            docs,
        )
        doc_ids = [row[0] for row in con.execute("SELECT id FROM document ORDER BY sort_order")]
        # External-content FTS5: index every row of document in one statement.
        con.execute("INSERT INTO document_fts(document_fts) VALUES ('rebuild')")
        timings["documents_s"] = time.perf_counter() - t0

        # Document variables, as the sample manifest has them.
        variables = []
        for order, (name, kind) in enumerate(
            (("title", "text"), ("outlet", "category"), ("episode", "category"),
             ("published", "date"))
        ):  # fmt: skip
            con.execute(
                "INSERT INTO variable (uuid, name, type, sort_order) VALUES (?, ?, ?, ?)",
                (_uuid(rng), name, kind, order),
            )
            variables.append(con.execute("SELECT last_insert_rowid()").fetchone()[0])
        values = []
        for n, doc_id in enumerate(doc_ids):
            day = base.date() - timedelta(days=rng.randrange(700))
            for var_id, value in zip(
                variables,
                (f"Benchmark article {n + 1}", rng.choice(OUTLETS), day.strftime("%Y-%m"),
                 day.isoformat()),
                strict=True,
            ):  # fmt: skip
                values.append((_uuid(rng), doc_id, var_id, value))
        con.executemany(
            "INSERT INTO document_value (uuid, document_id, variable_id, value)"
            " VALUES (?, ?, ?, ?)",
            values,
        )

        # Segments: the heavy articles get their fixed counts, the rest share what is
        # left; bounds random, 8–320 characters, 1–3 codes each (as bench.__main__).
        t1 = time.perf_counter()
        rest = SEGMENTS - sum(HEAVY)
        light = DOCUMENTS - len(HEAVY)
        per_doc = [rest // light + (1 if i < rest % light else 0) for i in range(light)]
        per_doc += list(HEAVY)
        segments = []
        plan: list[int] = []  # codes per segment, in insertion order
        k = 0
        for doc_id, length, count in zip(doc_ids, lengths, per_doc, strict=True):
            for _ in range(count):
                start = rng.randrange(0, length - 20)
                end = min(length, start + rng.randint(8, 320))
                stamp = _stamp(base, 1_000_000 + k)
                k += 1
                segments.append((_uuid(rng), doc_id, rng.choice(coders), start, end, stamp, stamp))
                plan.append(rng.randint(1, 3))
        con.executemany(
            'INSERT INTO segment (uuid, document_id, coder_id, start, "end", memo, created_at,'
            " updated_at) VALUES (?, ?, ?, ?, ?, '', ?, ?)",
            segments,
        )
        first = con.execute("SELECT min(id) FROM segment").fetchone()[0]
        codings = []
        for offset, n_codes in enumerate(plan):
            stamp = segments[offset][5]
            for code in rng.sample(codes, n_codes):
                codings.append((_uuid(rng), first + offset, code, stamp))
        con.executemany(
            "INSERT INTO coding (uuid, segment_id, code_id, created_at) VALUES (?, ?, ?, ?)",
            codings,
        )
        timings["segments_s"] = time.perf_counter() - t1

        # Links between random passages, across documents; contradicts/supports/elaborates.
        relations = [row[0] for row in con.execute("SELECT id FROM relation_type")]
        pairs: set[tuple[int, int]] = set()
        links = []
        while len(links) < LINKS:
            a, b = rng.randrange(SEGMENTS), rng.randrange(SEGMENTS)
            if a == b or (a, b) in pairs:
                continue
            pairs.add((a, b))
            links.append(
                (_uuid(rng), first + a, first + b, rng.choice(relations), rng.choice(coders),
                 _stamp(base, 2_000_000 + len(links)))
            )  # fmt: skip
        con.executemany(
            "INSERT INTO link (uuid, source_id, target_id, relation_type_id, coder_id, memo,"
            " created_at) VALUES (?, ?, ?, ?, ?, '', ?)",
            links,
        )
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
    timings["total_s"] = time.perf_counter() - t0
    if log:
        print(f"generated {path.name} in {timings['total_s']:.1f} s", file=sys.stderr)
    return timings


def ensure_large(*, log: bool = True) -> tuple[Path, dict[str, float]]:
    """The cached large project, generated first if missing."""
    path = cache_path()
    if path.exists():
        return path, {}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part.wbp")
    for leftover in (partial, *(Path(f"{partial}{s}") for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    timings = generate(partial, log=log)
    partial.rename(path)  # never leave a half-written file under the cached name
    return path, timings


def heavy_documents(path: Path) -> dict[int, str]:
    """Segment count -> UUID of the heavy articles (the last documents) in a generated file."""
    names = [f"article-{DOCUMENTS - len(HEAVY) + i + 1:05d}" for i in range(len(HEAVY))]
    uri = path.resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as con:
        found = dict(
            con.execute(
                f"SELECT name, uuid FROM document WHERE name IN ({', '.join('?' * len(names))})",
                names,
            ).fetchall()
        )
    return {count: found[name] for count, name in zip(HEAVY, names, strict=True)}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if target is None:
        print(ensure_large()[0])
    else:
        print(generate(target))
