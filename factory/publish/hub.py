"""Push a published dataset directory to the Hugging Face Hub, as one commit.

Safety first: before writing, the repo's card is read from the Hub (its metadata
comes with ``repo_info``). A repo whose card names another spec or another kind
of dataset (kept rows vs preference pairs), or that holds files but is not a
factory dataset, is refused unless ``force``. Pushing an
updated run of the same spec adds a commit that replaces the card and the data
files (stale shards are deleted in the same commit) and leaves other files alone.

huggingface_hub's errors are translated into PublishError here, at the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.publish.card import SFT_KIND, dataset_kind, factory_identity
from factory.publish.errors import PublishError

REPO_TYPE = "dataset"


@dataclass(frozen=True)
class PushResult:
    """Where the data went and what the commit did."""

    repo_id: str
    revision: str
    commit_url: str
    created_repo: bool
    uploaded: list[str]
    deleted: list[str]


def resolve_token(token: str | None = None) -> str:
    """An explicit token, else HF_TOKEN or the `hf auth login` / `huggingface-cli login` one."""
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise PublishError(
            "no Hugging Face token: set HF_TOKEN, or run `hf auth login` "
            "(`huggingface-cli login` on older versions)"
        )
    return found


def _local_files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _remote_state(api: Any, repo_id: str, revision: str | None) -> tuple[bool, Any | None]:
    """(repo exists, its info at ``revision`` or main, None when that branch is new)."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        return True, api.repo_info(repo_id, repo_type=REPO_TYPE, revision=revision)
    except RepositoryNotFoundError:
        return False, None
    except RevisionNotFoundError:
        # A new branch: judge the repo by its main branch.
        return True, api.repo_info(repo_id, repo_type=REPO_TYPE)


def check_target(
    info: Any | None, *, spec_name: str, repo_id: str, force: bool, kind: str = SFT_KIND
) -> None:
    """Refuse to overwrite a dataset that another spec (or someone else) made, or a dataset
    of another kind (kept rows vs preference pairs), unless forced."""
    if info is None or force:
        return
    files = [s.rfilename for s in (info.siblings or [])]
    if not [f for f in files if f != ".gitattributes"]:
        return  # an empty repo (e.g. created by a push that failed before its commit)
    card = info.card_data.to_dict() if info.card_data is not None else None
    identity = factory_identity(card)
    if identity is None:
        raise PublishError(
            f"{repo_id} exists and is not a dataset published by factory (its card has no "
            "factory block); refusing to overwrite it. Use another --repo-id, or --force"
        )
    if identity.get("spec_name") != spec_name:
        raise PublishError(
            f"{repo_id} holds data of spec {identity.get('spec_name')!r}, not {spec_name!r}; "
            "refusing to overwrite it. Use another --repo-id, or --force"
        )
    if dataset_kind(identity) != kind:
        raise PublishError(
            f"{repo_id} holds a {dataset_kind(identity)} dataset of spec {spec_name!r}, not a "
            f"{kind} one; refusing to overwrite it. Use another --repo-id, or --force"
        )


def push_dataset(
    folder: Path,
    repo_id: str,
    *,
    spec_name: str,
    message: str,
    private: bool = False,
    revision: str | None = None,
    force: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    kind: str = SFT_KIND,
) -> PushResult:
    """Create the repo if needed and commit ``folder`` (card + data/) to it in one commit.

    ``kind`` is what ``folder`` holds (``sft`` rows or ``preferences``); a repo holding
    another kind of factory dataset is refused unless ``force``.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if "/" not in repo_id:
        raise PublishError(f"--repo-id {repo_id!r}: expected USER/NAME or ORG/NAME")
    api = HfApi(endpoint=endpoint, token=resolve_token(token))
    try:
        exists, info = _remote_state(api, repo_id, revision)
        check_target(info, spec_name=spec_name, repo_id=repo_id, force=force, kind=kind)
        api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, repo_type=REPO_TYPE, exist_ok=True)
        local = _local_files(folder)
        remote = [s.rfilename for s in (info.siblings or [])] if info is not None else []
        # The data files are ours to replace; anything else already there is left alone.
        stale = sorted(f for f in remote if f.startswith("data/") and f not in local)
        operations: list[Any] = [
            CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(folder / f)) for f in local
        ]
        operations += [CommitOperationDelete(path_in_repo=f) for f in stale]
        commit = api.create_commit(
            repo_id,
            operations,
            commit_message=message,
            repo_type=REPO_TYPE,
            revision=revision,
        )
    except HfHubHTTPError as exc:
        raise PublishError(f"pushing to {repo_id} failed: {_first_line(exc)}") from None
    except ValueError as exc:  # e.g. the Hub rejected the card's metadata
        raise PublishError(f"pushing to {repo_id} failed: {_first_line(exc)}") from None
    return PushResult(
        repo_id=repo_id,
        revision=revision or "main",
        commit_url=str(commit.commit_url),
        created_repo=not exists,
        uploaded=local,
        deleted=stale,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[:2]) if text else type(exc).__name__
