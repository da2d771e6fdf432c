"""DOCX tables with merged cells: every row keeps the values Word shows in it."""

from __future__ import annotations

import io

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from assistant.knowledge.parsers import parse_file
from tests.knowledge.corpus import assert_valid_document

OFFICES = [
    ["Country", "City", "Staff"],
    ["France", "Paris", "3"],
    ["", "Lyon", "2"],
    ["", "Nice", "1"],
    ["Spain", "Madrid", "4"],
]


def _table(document, values):
    table = document.add_table(rows=len(values), cols=len(values[0]))
    for row, texts in zip(table.rows, values, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    return table


def _set(tc, tag: str, value: str | None) -> None:
    """Sets w:tcPr/w:<tag>, as other writers than python-docx's merge() leave it."""
    element = OxmlElement(f"w:{tag}")
    if value is not None:
        element.set(qn("w:val"), value)
    tc.get_or_add_tcPr().append(element)


def _rows(tmp_path, document) -> list[str]:
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "table.docx"
    path.write_bytes(buffer.getvalue())
    doc = parse_file(path)
    assert_valid_document(doc)
    return [doc.block_text(b) for b in doc.blocks if b.kind == "table_row"]


def test_a_vertically_merged_cell_is_in_every_row_it_spans(tmp_path):
    document = docx.Document()
    table = _table(document, OFFICES)
    table.cell(1, 0).merge(table.cell(3, 0))
    assert _rows(tmp_path, document) == [
        "Country | City | Staff",
        "France | Paris | 3",
        "France | Lyon | 2",
        "France | Nice | 1",
        "Spain | Madrid | 4",
    ]


def test_a_merge_in_a_middle_column_written_by_hand(tmp_path):
    # w:vMerge with w:val="continue", and without w:val (the same, by default), as other writers leave them.
    document = docx.Document()
    table = _table(document, [["Paris", "Rent", "1200"], ["Lyon", "", "900"], ["Nice", "", "800"]])
    _set(table.cell(0, 1)._tc, "vMerge", "restart")
    _set(table.cell(1, 1)._tc, "vMerge", "continue")
    _set(table.cell(2, 1)._tc, "vMerge", None)
    assert _rows(tmp_path, document) == ["Paris | Rent | 1200", "Lyon | Rent | 900", "Nice | Rent | 800"]


def test_a_horizontal_span_is_one_cell(tmp_path):
    document = docx.Document()
    table = _table(document, [["Item", "Q1", "Q2"], ["Total", "", "9"], ["Note: estimates only", "", ""]])
    table.cell(1, 0).merge(table.cell(1, 1))
    table.cell(2, 0).merge(table.cell(2, 2))
    assert [len(row.cells) for row in table.rows] == [3, 3, 3]  # python-docx repeats a spanned cell
    assert _rows(tmp_path, document) == ["Item | Q1 | Q2", "Total | 9", "Note: estimates only"]


def test_a_block_merged_both_ways_is_once_per_row_and_columns_after_it_line_up(tmp_path):
    document = docx.Document()
    table = _table(
        document, [["Head office", "", "Paris", "3"], ["", "", "Lyon", "2"], ["Branch", "Nice", "Nice", "1"]]
    )
    table.cell(0, 0).merge(table.cell(1, 1))
    assert _rows(tmp_path, document) == [
        "Head office | Paris | 3",
        "Head office | Lyon | 2",
        "Branch | Nice | Nice | 1",
    ]


def test_grid_before_keeps_a_merge_in_its_column(tmp_path):
    # A row that starts one grid column in (w:gridBefore) has its continuation in that column, not the first.
    document = docx.Document()
    table = _table(document, [["A", "Key", "1"], ["B", "", "2"]])
    _set(table.cell(0, 1)._tc, "vMerge", "restart")
    first = table.rows[1]._tr.tc_lst[0]
    first.getparent().remove(first)
    tr_pr = table.rows[1]._tr.get_or_add_trPr()
    grid_before = OxmlElement("w:gridBefore")
    grid_before.set(qn("w:val"), "1")
    tr_pr.append(grid_before)
    _set(table.rows[1]._tr.tc_lst[0], "vMerge", None)
    assert _rows(tmp_path, document) == ["A | Key | 1", "Key | 2"]


def test_legacy_horizontal_merge_is_one_cell(tmp_path):
    document = docx.Document()
    table = _table(document, [["Name", "Amount", "Due"], ["Deposit paid in full", "", "May"]])
    _set(table.cell(1, 0)._tc, "hMerge", "restart")
    _set(table.cell(1, 1)._tc, "hMerge", None)
    assert _rows(tmp_path, document) == ["Name | Amount | Due", "Deposit paid in full | May"]


def test_text_left_in_a_continuation_cell_is_kept(tmp_path):
    document = docx.Document()
    table = _table(document, [["Paris", "3"], ["annex", "2"]])
    _set(table.cell(0, 0)._tc, "vMerge", "restart")
    _set(table.cell(1, 0)._tc, "vMerge", "continue")
    assert _rows(tmp_path, document) == ["Paris | 3", "Paris annex | 2"]


def test_a_row_with_only_repeated_merge_values_is_left_out(tmp_path):
    document = docx.Document()
    table = _table(document, [["Paris", "3"], ["", ""], ["Lyon", "2"]])
    table.cell(0, 0).merge(table.cell(1, 0))
    assert _rows(tmp_path, document) == ["Paris | 3", "Lyon | 2"]


def test_nested_tables_stay_in_their_cell_and_keep_their_own_merges(tmp_path):
    document = docx.Document()
    table = _table(document, [["Region", "Offices"], ["North", ""], ["", "none"]])
    table.cell(1, 0).merge(table.cell(2, 0))
    inner = table.cell(1, 1).add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Lille", (0, 1): "5", (1, 1): "6"}.items():
        inner.cell(r, c).text = text
    inner.cell(0, 0).merge(inner.cell(1, 0))  # flattened into the outer cell, so not repeated there
    assert _rows(tmp_path, document) == ["Region | Offices", "North | Lille 5 6", "North | none"]
