"""Indexing throughput: the whole pipeline (parse, chunk, embed, store) against the bare encoder.

Both sides run in the same process on the same chunks, bare encoder before and
after the pipeline (averaged), so a noisy machine moves both alike. Each
embedding backend gets its own pair of figures.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from assistant.bench.synthetic_docs import seed_paragraphs, write_folder
from assistant.config import physical_cores


def _bare_rate(embedder, texts: list[str]) -> float:
    t0 = time.perf_counter()
    embedder.encode_bare(texts)
    return len(texts) / (time.perf_counter() - t0)


def measure_backend(core, folder: Path, home: Path, backend: str) -> dict:
    from assistant.knowledge.base import KnowledgeBase
    from assistant.knowledge.evaluation import _scratch_core
    from assistant.knowledge.indexer import _embedding_text

    scratch = _scratch_core(core, home)
    scratch.settings.embedding_backend = backend
    exported = core.paths.cache / "embedders"  # the ONNX graphs are exported once, kept for the next run
    exported.mkdir(parents=True, exist_ok=True)
    if not (scratch.paths.cache / "embedders").exists():
        (scratch.paths.cache / "embedders").symlink_to(exported, target_is_directory=True)
    kb = KnowledgeBase(scratch)
    embedder = kb.embedder()
    embedder.encode(["warm up: load the model outside the timed part"])
    kb.collections.add_source("bench", folder)
    t0 = time.perf_counter()
    report = kb.index("bench")
    pipeline_s = time.perf_counter() - t0
    rows = [dict(r) for r in kb.db.query("select text, heading from chunks where embedded = 1")]
    texts = [_embedding_text(r) for r in rows]
    before = _bare_rate(embedder, texts)
    after = _bare_rate(embedder, texts)
    bare = (before + after) / 2
    pipeline = report.chunks_added / pipeline_s
    scratch.close()
    return {"backend": backend, "files": report.indexed, "skipped": len(report.skipped),
            "chunks": report.chunks_added, "pipeline_s": pipeline_s, "pipeline_chunks_per_s": pipeline,
            "bare_chunks_per_s": bare, "bare_runs": [before, after], "ratio": pipeline / bare}


def run(core, backends: list[str], seed: Path | None, json_path: Path | None, pdfs: int, docx: int,
        markdown: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="assistant-bench-index-") as tmp:
        folder = Path(tmp) / "docs"
        corpus = write_folder(folder, seed_paragraphs(seed), pdfs=pdfs, docx=docx, markdown=markdown)
        rows = [measure_backend(core, folder, Path(tmp) / f"home-{b}", b) for b in backends]
    result = {"machine": {"threads": physical_cores()}, "corpus": corpus, "rows": rows}
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
    return result


def format_table(result: dict) -> str:
    c = result["corpus"]
    lines = [f"corpus: {c['pdf']} PDF, {c['docx']} DOCX, {c['md']} Markdown = {c['pages']} pages",
             f"{'backend':<12}{'chunks':>8}{'pipeline s':>12}{'pipeline c/s':>14}{'bare c/s':>10}{'ratio':>8}"]
    for r in result["rows"]:
        lines.append(f"{r['backend']:<12}{r['chunks']:>8}{r['pipeline_s']:>12.1f}{r['pipeline_chunks_per_s']:>14.1f}"
                     f"{r['bare_chunks_per_s']:>10.1f}{r['ratio']:>8.3f}")
    return "\n".join(lines)
