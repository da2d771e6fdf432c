"""`assistant bench`: the suite's table and JSON, and one cheap row measured for real."""

from __future__ import annotations

import json

import pytest

from assistant.bench import suite
from assistant.cli import main
from assistant.cli_bench import parse_rows
from assistant.errors import UserFacingError


def _result(rows: list[suite.Row]) -> dict:
    machine = {"cpu": "Test CPU", "cores": 2, "physical_cores": 2, "ram_gb": 8.0, "os": "Linux",
               "python": "3.11.0", "llama_cpp_python": "0.3.36"}
    return {"date": "2025-01-02T03:04:05", "quick": True, "seconds": 90.0, "machine": machine, "plan": {},
            "rows": [suite.asdict(r) for r in rows]}


ROWS = [suite.Row(1, "generation tok/s, Tiny", "50.0", "51.0", "53.2", 0.98, ">= 0.97", True),
        suite.Row(3, "documents question TTFT", "1.500 s", "1.000 s", ratio=1.5, goal="<= 1.1 x bare + 100 ms",
                  met=False),
        suite.Row(5, "hybrid search p50 / p95, 2,000 chunks", "3.0 / 5.0 ms")]


def test_table_gives_both_sides_ratio_goal_and_verdict():
    text = suite.format_table(_result(ROWS))
    lines = text.splitlines()
    assert lines[0].split(" | ")[0] == "#" and "llama-bench" in lines[0] and "result" in lines[0]
    assert "50.0" in lines[2] and "51.0" in lines[2] and "53.2" in lines[2] and "0.98" in lines[2]
    assert lines[2].rstrip().endswith("met") and lines[3].rstrip().endswith("MISSED")
    assert lines[4].rstrip().endswith("-")  # no goal: neither met nor missed
    assert "Test CPU, 2 cores, 8.0 GB RAM, Python 3.11.0, llama-cpp-python 0.3.36" in lines[-1]

    markdown = suite.markdown_table(_result(ROWS))
    assert markdown.startswith("| # | figure | app | yardstick | llama-bench | ratio | goal | result |\n|---|")
    assert "| 3 | documents question TTFT | 1.500 s | 1.000 s |  | 1.50 | <= 1.1 x bare + 100 ms | MISSED |" in markdown
    assert "Measured on: Test CPU" in markdown


def test_readme_table_command_renders_a_written_result(app_paths, tmp_path, capsys):
    path = suite.write(_result(ROWS), tmp_path / "2025-01-02.json")
    assert suite.latest_result(tmp_path) == path
    assert main(["bench", "readme-table", str(path)]) == 0
    assert "| 1 | generation tok/s, Tiny | 50.0 | 51.0 | 53.2 | 0.98 | >= 0.97 | met |" in capsys.readouterr().out


def test_only_takes_row_numbers():
    assert parse_rows("1, 3,8") == {1, 3, 8}
    assert parse_rows(None) is None
    for bad in ("9", "x", ","):
        with pytest.raises(UserFacingError):
            parse_rows(bad)


def test_quick_search_row_measures_real_latencies(core, tmp_path):
    result = suite.run(core, only={5}, quick=True, report=lambda _m: None)
    [row] = result["rows"]
    assert row["number"] == 5 and row["data"]["chunks"] == 2_000 and row["data"]["queries"] == 100
    assert 0 < row["data"]["p50_ms"] <= row["data"]["p95_ms"]
    assert 0 < row["data"]["p50_with_embedding_ms"]
    assert 0 < row["data"]["word_weights_p50_ms"] <= row["data"]["word_weights_p95_ms"]
    assert "word weights" in row["bare"]
    assert result["machine"]["cores"] >= 1 and result["machine"]["llama_cpp_python"]
    written = json.loads(suite.write(result, tmp_path / "out.json").read_text())
    assert written["rows"][0]["app"] == row["app"] and "ms" in row["app"]
