"""Building document folders, checking the two stores agree, and waiting on an indexing run."""

from __future__ import annotations

import random
import time
from pathlib import Path

WORDS = ("lease tenant landlord notice payment clause deposit repair term renewal insurance liability "
         "invoice supplier delivery warranty employee salary holiday contract breach remedy court "
         "arbitration confidentiality termination period month year office premises rent").split()


def write_corpus(folder: Path, files: int = 12, paragraphs: int = 8, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(files):
        lines = [f"# Document {i}", ""]
        for p in range(paragraphs):
            if p % 4 == 0:
                lines += [f"## Section {i}.{p}", ""]
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))
            lines += [f"Paragraph {i}-{p}: {words}.", ""]
        path = folder / f"doc{i:03d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        out.append(path)
    return out


def snapshot(kb) -> dict:
    """Everything that must match between a killed-and-resumed run and a clean one."""
    docs = sorted((r[0], r[1], r[2], r[3]) for r in kb.db.execute(
        "select path, status, content_hash, n_chunks from documents"))
    chunks = sorted(r[0] for r in kb.db.execute("select id from chunks"))
    return {"documents": docs, "chunks": chunks, "vectors": sorted(kb.vectors().ids())}


def assert_consistent(kb) -> None:
    """No orphans in either store, no duplicates, nothing half-written."""
    db = kb.db
    assert db.execute("select count(*) from chunks where embedded = 0").fetchone()[0] == 0
    orphans = db.execute("select count(*) from chunks where content_hash not in "
                         "(select content_hash from documents where status = 'indexed')").fetchone()[0]
    assert orphans == 0
    chunk_ids = {r[0] for r in db.execute("select id from chunks")}
    assert kb.vectors().ids() == chunk_ids
    assert kb.vectors().count() == len(chunk_ids)
    expected = db.execute("select coalesce(sum(n), 0) from (select distinct content_hash, n_chunks as n "
                          "from documents where status = 'indexed')").fetchone()[0]
    assert expected == len(chunk_ids)
    # chunks_fts reads its rows from chunks, so counting them proves nothing: FTS5's own check
    # compares its index with the chunks table and raises on a stale or missing entry.
    db.execute("insert into chunks_fts(chunks_fts, rank) values ('integrity-check', 1)")


def stopped_answer(core, kb, question: str, collection: str, enough) -> tuple[str, object]:
    """Ask, stop the answer (as the Stop button does) once `enough(text so far)` holds, and return the
    text written and the stored message."""
    from assistant.answer import ask_documents
    from assistant.config import GenerationSettings
    from assistant.llm.protocol import Token

    stream = ask_documents(core, kb, question, [collection],
                           settings=GenerationSettings(temperature=0.0, seed=1, max_tokens=200))
    text = ""
    for event in stream:
        if isinstance(event, Token):
            text += event.text
            if enough(text):
                break
    stream.close()
    (conversation,) = core.conversations.list()
    return text, core.conversations.messages(conversation["id"])[-1]


def wait_for(condition, what: str, timeout: float = 120, every: float = 0.05) -> None:
    """Poll `condition` (a subprocess's or a thread's progress) until it holds; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
