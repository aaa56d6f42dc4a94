"""The file source: JSONL, Parquet, Hugging Face datasets, field maps, GSM8K answers, bad rows."""

import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factory.errors import InputFileError, SpecError
from factory.sources.base import SourceContext
from factory.sources.file import FileSource, FileSourceOptions, split_gsm8k

ROWS = [
    {"question": "What is 6 times 7?", "final": "6 * 7 = 42\n#### 42", "qid": "a"},
    {"question": "How many legs do 3 spiders have?", "final": "3 * 8 = 24\n#### 24", "qid": "b"},
    {
        "question": "Add 1,000 and 250.",
        "final": "1000 + 250 = <<1000+250=1250>>1250\n#### 1,250",
        "qid": "c",
    },
]
MAPPED = {
    "fields": {"statement": "question", "answer": "final", "id": "qid"},
    "answer_format": "gsm8k",
}


def make(tmp_path: Path, domain: str = "math", **options) -> FileSource:
    return FileSource(FileSourceOptions(**options), SourceContext(domain=domain, base_dir=tmp_path))


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def check_rows(problems, path_label: str):
    assert [p.reference.answer for p in problems] == ["42", "24", "1250"]
    assert problems[2].reference.solution == "1000 + 250 = 1250"
    assert all(p.trust == "ground_truth" and p.source == "file" for p in problems)
    assert problems[0].metadata["source_id"] == "a" and problems[0].metadata["file"] == path_label
    assert problems[0].verifier_problem() == {"reference": "42"}


def test_jsonl_with_field_map_and_gsm8k_answers(tmp_path):
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    problems = list(make(tmp_path, path="rows.jsonl", **MAPPED).problems(10, seed=0))
    check_rows(problems, "rows.jsonl")
    assert problems[1].metadata["row"] == 2


def test_parquet(tmp_path):
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "rows.parquet")
    problems = list(make(tmp_path, path="rows.parquet", **MAPPED).problems(10, seed=0))
    check_rows(problems, "rows.parquet")


def test_hugging_face_dataset_saved_to_disk(tmp_path):
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    problems = list(make(tmp_path, path="saved", **MAPPED).problems(10, seed=0))
    check_rows(problems, "saved")


def test_hugging_face_dataset_dir_through_load_dataset(tmp_path):
    data_dir = tmp_path / "hub_style"
    data_dir.mkdir()
    datasets.Dataset.from_list(ROWS).to_parquet(str(data_dir / "train.parquet"))
    source = make(tmp_path, path="hub_style", split="train", **MAPPED)
    assert source.format == "hf"
    check_rows(list(source.problems(10, seed=0)), "hub_style")


def test_limit_and_seeded_shuffle(tmp_path):
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    assert len(list(make(tmp_path, path="rows.jsonl", **MAPPED).problems(2, seed=0))) == 2
    shuffled = make(tmp_path, path="rows.jsonl", shuffle=True, **MAPPED)
    first = [p.id for p in shuffled.problems(3, seed=5)]
    assert first == [p.id for p in shuffled.problems(3, seed=5)]
    assert sorted(first) == sorted(
        p.id for p in make(tmp_path, path="rows.jsonl", **MAPPED).problems(3, 0)
    )


def test_code_rows_with_tests_and_stdio(tmp_path):
    rows = [
        {
            "statement": "Write f.",
            "tests": "assert f() == 1",
            "entry_point": "f",
            "solution": "def f(): return 1",
        },
        {"statement": "Echo.", "stdio": [{"input": "a\n", "output": "a\n"}]},
    ]
    write_jsonl(tmp_path / "code.jsonl", rows)
    problems = list(make(tmp_path, domain="code", path="code.jsonl").problems(5, 0))
    assert problems[0].verifier_problem() == {
        "tests": "assert f() == 1",
        "entry_point": "f",
        "reference_solution": "def f(): return 1",
    }
    assert problems[1].verifier_problem() == {"stdio": [{"input": "a\n", "output": "a\n"}]}


def test_numeric_answers_are_text(tmp_path):
    write_jsonl(tmp_path / "n.jsonl", [{"statement": "1+1?", "answer": 2}])
    assert next(make(tmp_path, path="n.jsonl").problems(1, 0)).reference.answer == "2"


BAD_ROWS = [
    {"question": "fine", "final": "#### 1"},
    {"question": "", "final": "#### 2"},
    "{not json",
    {"question": "no marker", "final": "3"},
    {"question": "no answer column"},
    {"question": ["a", "list"], "final": "#### 4"},
    {"question": "fine too", "final": "#### 5"},
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, "bad.jsonl: line 2: field 'statement': column 'question' is empty"),
        (3, "bad.jsonl: line 3: field '(row)': invalid JSON: Expecting property name"),
        (4, "bad.jsonl: line 4: field 'answer': no '####' marker before the final answer"),
        (5, "bad.jsonl: line 5: field 'answer': column 'final' is missing or null"),
        (
            6,
            "bad.jsonl: line 6: field 'statement': column 'question' must be text or a number, "
            "got list",
        ),
    ],
)
def test_a_malformed_row_names_file_row_and_field(tmp_path, line, expected):
    write_jsonl(tmp_path / "bad.jsonl", [BAD_ROWS[0], BAD_ROWS[line - 1]])
    options = {**MAPPED, "fields": {"statement": "question", "answer": "final"}}
    # The bad row is line 2 of this two-line file.
    with pytest.raises(InputFileError) as info:
        list(make(tmp_path, path="bad.jsonl", **options).problems(10, 0))
    message = str(info.value)
    assert message.startswith(expected.replace(f"line {line}", "line 2"))
    assert "on_error: skip" in message


def test_skip_mode_records_every_bad_row(tmp_path):
    write_jsonl(tmp_path / "bad.jsonl", BAD_ROWS)
    options = {**MAPPED, "fields": {"statement": "question", "answer": "final"}}
    source = make(tmp_path, path="bad.jsonl", on_error="skip", **options)
    problems = list(source.problems(10, 0))
    assert [p.reference.answer for p in problems] == ["1", "5"]
    assert [(s.row, s.field) for s in source.skipped] == [
        (2, "statement"),
        (3, "(row)"),
        (4, "answer"),
        (5, "answer"),
        (6, "statement"),
    ]


def test_missing_file_and_unknown_suffix_fail_at_construction(tmp_path):
    with pytest.raises(SpecError, match=r"path 'gone\.jsonl' does not exist"):
        make(tmp_path, path="gone.jsonl")
    (tmp_path / "rows.csv").write_text("a,b\n")
    with pytest.raises(SpecError, match="cannot tell the format"):
        make(tmp_path, path="rows.csv")


def test_split_gsm8k():
    assert split_gsm8k("a <<1+1=2>>2\n#### 2") == ("a 2", "2")
    assert split_gsm8k("x #### 1 #### 3,000") == ("x #### 1", "3000")
    with pytest.raises(ValueError, match="nothing after"):
        split_gsm8k("text ####  ")
