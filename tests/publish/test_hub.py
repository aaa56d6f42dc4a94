"""Pushing to the Hub through the real huggingface_hub client, against a local fake Hub."""

from __future__ import annotations

import pytest

from factory.errors import FactoryError
from factory.publish.dataset import build_dataset
from factory.publish.hub import push_dataset
from factory.publish.run_reader import read_run
from tests.publish.fake_hub import TOKEN, FakeHub


@pytest.fixture
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FakeHub() as server:
        yield server


def _push(hub, folder, repo="alice/gsm", **kw):
    kw.setdefault("spec_name", "gsm8k_distill")
    kw.setdefault("message", "first push")
    return push_dataset(folder, repo, endpoint=hub.url, **kw)


def test_push_creates_repo_and_commits_card_and_data(gsm_run, tmp_path, hub):
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out, test_fraction=0.25)
    result = _push(hub, out, private=True)
    assert result.created_repo and result.revision == "main"
    repo = hub.repos["alice/gsm"]
    assert repo.private
    assert len(repo.commits) == 1
    branch, commit = repo.commits[0]
    assert branch == "main" and commit.message == "first push"
    assert sorted(commit.added) == [
        "README.md", "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet",
    ]  # fmt: skip
    assert commit.added["README.md"] == (out / "README.md").read_bytes()
    assert result.commit_url.endswith(commit.oid)


def test_updated_push_adds_a_commit_and_removes_stale_shards(gsm_run, tmp_path, hub):
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out, test_fraction=0.25)
    _push(hub, out)
    hub.files("alice/gsm")["notes/extra.md"] = b"kept"  # someone's extra file stays
    build_dataset(read_run(gsm_run), out)  # no test split this time
    second = _push(hub, out, message="update")
    assert not second.created_repo
    repo = hub.repos["alice/gsm"]
    assert [c.message for _, c in repo.commits] == ["first push", "update"]
    assert repo.commits[1][1].deleted == ["data/test-00000-of-00001.parquet"]
    assert sorted(hub.files("alice/gsm")) == [
        "README.md", "data/train-00000-of-00001.parquet", "notes/extra.md",
    ]  # fmt: skip


def test_push_to_a_branch(gsm_run, tmp_path, hub):
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out)
    _push(hub, out)
    result = _push(hub, out, revision="v2", message="to a branch")
    assert result.revision == "v2"
    assert hub.repos["alice/gsm"].commits[-1][0] == "v2"


def test_refuses_another_specs_dataset_unless_forced(gsm_run, tmp_path, hub):
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out)
    _push(hub, out)
    with pytest.raises(FactoryError, match="holds data of spec 'gsm8k_distill', not 'other'"):
        _push(hub, out, spec_name="other")
    assert len(hub.repos["alice/gsm"].commits) == 1
    _push(hub, out, spec_name="other", force=True, message="forced")
    assert len(hub.repos["alice/gsm"].commits) == 2


def test_refuses_a_dataset_factory_did_not_make(gsm_run, tmp_path, hub):
    hub.add_repo(
        "bob/mine", {"README.md": b"---\nlicense: mit\n---\n# Bob's data\n", "x.csv": b"a"}
    )
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out)
    with pytest.raises(FactoryError, match="not a dataset published by factory"):
        _push(hub, out, repo="bob/mine")
    assert hub.repos["bob/mine"].commits == []


def test_no_token_is_a_clear_error(gsm_run, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored login either
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out)
    with pytest.raises(FactoryError, match="no Hugging Face token"):
        push_dataset(out, "alice/gsm", spec_name="gsm8k_distill", message="m")


def test_wrong_token_is_a_publish_error(gsm_run, tmp_path, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out)
    with pytest.raises(FactoryError, match="pushing to alice/gsm failed"):
        _push(hub, out)


def test_cli_publish_pushes_with_a_default_message(gsm_run, tmp_path, hub, cli, monkeypatch):
    import huggingface_hub.constants

    # HF_ENDPOINT is read when huggingface_hub is imported; in-process, set what it set.
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
    out = tmp_path / "ds"
    result = cli("publish", gsm_run, "--out", out, "--repo-id", "alice/gsm")
    assert result.exit_code == 0, result.output
    assert "created and pushed alice/gsm@main" in result.output
    message = hub.repos["alice/gsm"].commits[0][1].message
    assert message.startswith("factory publish: gsm8k_distill (spec hash ")
    other = cli("publish", gsm_run, "--out", out, "--repo-id", "bob/x", "--message", "m")
    assert other.exit_code == 0 and hub.repos["bob/x"].commits[0][1].message == "m"
