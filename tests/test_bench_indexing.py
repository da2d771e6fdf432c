"""`assistant bench indexing` runs the real pipeline and the bare encoder side by side and writes JSON."""

from __future__ import annotations

import json

from assistant.bench import indexing_speed
from assistant.bench.synthetic_docs import pdf_document, seed_paragraphs, write_folder
from assistant.knowledge.parsers import parse_file


def test_synthetic_folder_has_real_pages(tmp_path):
    counts = write_folder(tmp_path, seed_paragraphs(None), pdfs=2, docx=1, markdown=1, pdf_pages=3, words=600)
    assert counts == {"pdf": 2, "docx": 1, "md": 1, "pages": 2 * 3 + 1 + 1}
    pdf = parse_file(tmp_path / "report-000.pdf")
    assert pdf.pages == 3 and "Ref. P0-1" in pdf.text
    assert "Memorandum 0" in parse_file(tmp_path / "memo-000.docx").text
    # each file differs, so none is reused as a duplicate of another
    assert (tmp_path / "report-000.pdf").read_bytes() != (tmp_path / "report-001.pdf").read_bytes()
    assert pdf_document([["a line"]]).startswith(b"%PDF-1.4")


def test_bench_indexing_measures_both_sides(core, tmp_path):
    target = tmp_path / "indexing.json"
    result = indexing_speed.run(core, ["torch"], None, target, pdfs=3, docx=1, markdown=1)
    row = result["rows"][0]
    assert row["files"] == 5 and row["skipped"] == 0 and row["chunks"] > 5
    assert row["pipeline_chunks_per_s"] > 0 and row["bare_chunks_per_s"] > 0
    assert row["ratio"] == row["pipeline_chunks_per_s"] / row["bare_chunks_per_s"]
    assert json.loads(target.read_text())["rows"][0]["chunks"] == row["chunks"]
    assert "torch" in indexing_speed.format_table(result)
