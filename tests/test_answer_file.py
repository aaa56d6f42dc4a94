"""Verifying a JSONL file of candidates: the shipped sample agrees with its labels."""

import json
from pathlib import Path

import pytest

from factory.answer_file import read_answer_file, verify_answer_file
from factory.errors import InputFileError

SAMPLE = Path(__file__).parents[1] / "problem_specs" / "samples" / "math_answers.jsonl"


def test_shipped_sample_verdicts_agree_with_every_label():
    report = verify_answer_file(SAMPLE)
    assert len(report.results) == sum(1 for line in SAMPLE.open() if line.strip())
    wrong = [(r.id, r.verdict.reason.value, r.verdict.message) for r in report.disagreements()]
    assert wrong == []


def test_broken_reference_in_sample_is_reference_error_not_pass_or_fail():
    report = verify_answer_file(SAMPLE)
    by_id = {r.id: r.verdict for r in report.results}
    assert by_id["ref-001"].reason == "reference_error"


def test_rows_keep_file_order_and_ids():
    report = verify_answer_file(SAMPLE)
    ids = [json.loads(line)["id"] for line in SAMPLE.open() if line.strip()]
    assert [r.id for r in report.results] == ids


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", ":1: not valid JSON"),
        ('{"id": "a", "candidate": "1"}', ":1: field 'reference'"),
        ('{"id": "a", "candidate": 1, "reference": "1"}', ":1: field 'candidate'"),
        ('{"id": "a", "candidate": "1", "reference": "1", "colour": 1}', ":1: field 'colour'"),
    ],
)
def test_malformed_lines_name_the_line_and_field(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InputFileError, match=message):
        list(read_answer_file(path))
