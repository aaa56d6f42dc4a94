"""A problems file with a line in another encoding, through the real CLI: the error names the
file and the line (no traceback); with ``on_error: skip`` that row is skipped and recorded."""

from __future__ import annotations

import json

import yaml

from tests.run.scripted_llm import GSM_DATA, GSM_SPEC, run_cli

LATIN1_LINE = 3


def _spec(tmp_path, on_error: str):
    lines = GSM_DATA.read_bytes().splitlines(keepends=True)[:5]
    # Line 3 written in Latin-1, as a spreadsheet export might: "é" is the byte 0xe9.
    lines[LATIN1_LINE - 1] = lines[LATIN1_LINE - 1].replace(b"A ", "Café ".encode("latin-1"), 1)
    assert b"\xe9" in lines[LATIN1_LINE - 1]
    (tmp_path / "problems.jsonl").write_bytes(b"".join(lines))
    spec = yaml.safe_load(GSM_SPEC.read_text())
    spec["source"]["options"].update(path="problems.jsonl", on_error=on_error)
    path = tmp_path / f"spec_{on_error}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _generate(server, spec, out):
    return run_cli(
        "generate", str(spec), "--n", "5", "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--json-logs",
    )  # fmt: skip


def test_a_line_that_is_not_utf8_is_named_by_file_and_line(llm_server, tmp_path):
    out = tmp_path / "run"
    result = _generate(llm_server, _spec(tmp_path, "raise"), out)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"problems.jsonl: line {LATIN1_LINE}: field '(row)': not UTF-8 text" in lines[0]
    assert "on_error: skip" in lines[0] and f"factory resume {out}" in lines[0]
    # As it says: fix the file, and the run it left continues.
    data = tmp_path / "problems.jsonl"
    data.write_bytes(data.read_bytes().replace("é".encode("latin-1"), "é".encode()))
    resumed = run_cli("resume", str(out), "--json-logs")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.splitlines()[-1])
    assert summary["problems"]["total"] == 5 and summary["problems"]["open"] == 0


def test_with_skip_the_line_is_skipped_recorded_and_the_rest_run(llm_server, tmp_path):
    out = tmp_path / "run"
    result = _generate(llm_server, _spec(tmp_path, "skip"), out)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["problems"]["total"] == 4 and summary["problems"]["open"] == 0
    assert summary["rejections"].get("bad_input_row") == 1
    records = [json.loads(x) for x in (out / "rejections.jsonl").read_text().splitlines()]
    bad = [r for r in records if r["reason"] == "bad_input_row"]
    assert bad[0]["row"] == LATIN1_LINE and "not UTF-8" in bad[0]["message"]
    assert bad[0]["file"] == "problems.jsonl"
