"""Who answered: cards, rows and stats name the provider of every response truthfully, cost
only what was paid, and publish no local path or endpoint URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard

from factory.publish.providers import LIVE, REPLAYED, SCRIPTED, describe

REPO = Path(__file__).resolve().parents[2]


def _recording(path: Path, header: dict, providers: list[str]) -> Path:
    lines = [json.dumps({"_recorded": True, **header})]
    lines += [json.dumps({"key": str(i), "response": {"provider": p}})
              for i, p in enumerate(providers)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def test_live_endpoints_are_paid_only_when_someone_charges_for_them():
    api = describe("anthropic")
    assert (api.kind, api.name, api.paid) == (LIVE, "anthropic", True)
    assert describe("anthropic:https://api.anthropic.com").paid is True
    batches = describe("anthropic-batch:https://api.anthropic.com")
    assert (batches.name, batches.paid) == ("anthropic (batches)", True)
    for local in ("anthropic:http://127.0.0.1:42091", "openai:http://localhost:8000/v1",
                  "openai:http://192.168.1.20:8000/v1"):  # fmt: skip
        p = describe(local)
        assert p.kind == LIVE and p.paid is False and "local server" in p.name
        assert "cannot tell whether a model or a script answered" in p.description
    remote = describe("openai:https://llm.example.com/v1")
    assert (remote.name, remote.paid) == ("openai-compatible (remote server)", True)


def test_a_replay_says_what_the_recording_holds(tmp_path):
    scripted = _recording(tmp_path / "s.jsonl", {"responses": "scripted"}, ["anthropic:http://127.0.0.1:1"])
    p = describe(f"replay:{scripted}")
    assert (p.kind, p.name, p.paid) == (SCRIPTED, "scripted (replay of s.jsonl)", False)
    assert "not by any model" in p.description
    live = _recording(tmp_path / "live.jsonl", {"note": "recorded"}, ["anthropic", "anthropic"])
    p = describe(f"replay:{live}")
    assert (p.kind, p.name, p.paid) == (REPLAYED, "replay of live.jsonl", False)
    assert "earlier calls to anthropic;" in p.description
    # relative paths are looked for where the run may have started
    assert describe("replay:live.jsonl", search=(tmp_path,)).kind == REPLAYED
    gone = describe(f"replay:{tmp_path / 'gone.jsonl'}")
    assert gone.kind == REPLAYED and "unknown" in gone.description
    for p in (describe(f"replay:{scripted}"), describe(f"replay:{live}"), gone):
        assert str(tmp_path) not in p.name + p.description


@pytest.mark.docker
def test_the_quickstart_card_says_scripted_and_costs_nothing(quickstart_run, tmp_path, cli,
                                                             load_published):  # fmt: skip
    out = tmp_path / "ds"
    assert cli("publish", quickstart_run, "--out", out).exit_code == 0
    card = DatasetCard((out / "README.md").read_text())
    name = "scripted (replay of quickstart.jsonl)"
    assert f"| `{name}` | scripted |" in card.text
    assert "An LLM wrote" not in card.text and "$0.0240" not in card.text
    assert "none of them was paid" in card.text
    assert "No model wrote the published responses" in card.text  # the licence section
    train = load_published(out, "all")["train"]
    assert {p["provider"] for p in train["provenance"]} == {name}
    assert {p["provider_kind"] for p in train["provenance"]} == {"scripted"}


@pytest.mark.docker
def test_no_local_path_or_endpoint_url_is_published(gsm_run, quickstart_run, tmp_path, cli):
    """gsm_run answered from http://127.0.0.1:PORT, the quickstart from replay:PATH."""
    from factory.publish.run_reader import read_run

    for run in (gsm_run, quickstart_run):
        recorded = json.dumps(read_run(run).candidates)
        assert "127.0.0.1" in recorded or "replay:" in recorded  # the run itself knows
        for kind in ("publish", "preferences"):
            out = tmp_path / f"{run.name}-{kind}"
            result = cli(kind, run, "--out", out)
            if kind == "preferences" and run == gsm_run:
                assert result.exit_code == 2  # all-right/all-wrong answers: no pairs
                continue
            assert result.exit_code == 0, result.output
            for file in out.rglob("*"):
                if file.is_file():
                    data = file.read_bytes()
                    for leak in (b"127.0.0.1", b"http://", b"replay:", str(tmp_path).encode(),
                                 str(REPO).encode()):  # fmt: skip
                        assert leak not in data, (file, leak)


def test_calls_to_the_anthropic_api_are_costed_and_carry_its_terms(gsm_run, tmp_path, cli):
    """The same run as if its responses had come from the Anthropic API (the store's
    provider field rewritten): then every call was paid and the card says what it cost."""
    import sqlite3

    with sqlite3.connect(gsm_run / "state.sqlite") as db:
        for pid, index, data in db.execute("SELECT problem_id, sample_index, data FROM candidates"):
            record = json.loads(data)
            record["response"]["provider"] = "anthropic"
            db.execute(
                "UPDATE candidates SET data = ? WHERE problem_id = ? AND sample_index = ?",
                (json.dumps(record), pid, index),
            )
        for row_id, data in db.execute("SELECT row_id, data FROM rows"):
            row = json.loads(data)
            row["provenance"]["provider"] = "anthropic"
            db.execute("UPDATE rows SET data = ? WHERE row_id = ?", (json.dumps(row), row_id))
        spent = db.execute("SELECT SUM(cost_usd), COUNT(*) FROM spend").fetchone()
    assert spent[0] > 0
    stats = json.loads(cli("stats", gsm_run, "--json").output)
    assert stats["cost"]["paid_calls"] == spent[1] == 80
    assert abs(stats["cost"]["cost_usd"] - spent[0]) < 1e-6
    out = tmp_path / "ds"
    assert cli("publish", gsm_run, "--out", out).exit_code == 0
    card = DatasetCard((out / "README.md").read_text()).text
    assert f"80 paid calls cost ${round(spent[0], 6):.4f} in total" in card
    assert "An LLM wrote the solutions" in card and "| `anthropic` | live |" in card
    assert "Anthropic's terms for outputs" in card
