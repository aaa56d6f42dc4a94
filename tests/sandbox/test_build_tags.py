"""`factory sandbox build` prunes only the images earlier builds made, on the real daemon: a tag
someone else put in the `factory-sandbox` repository survives."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from sandbox import docker_api
from sandbox.build import REPOSITORY, remove_stale_builds, resolve_image

pytestmark = pytest.mark.docker


def _all_tags() -> set[str]:
    out = subprocess.run(
        ["docker", "images", REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return set(out.split())


def test_only_tags_of_earlier_builds_are_removed(tmp_path):
    current = resolve_image()
    suffix = uuid.uuid4().hex[:6]
    users = f"{REPOSITORY}:test-{suffix}"  # a person's own tag of our image
    stale_digest = f"0000000{suffix[:5]}"
    stale = f"{REPOSITORY}:{stale_digest}"  # what an earlier build would have left
    (tmp_path / "Dockerfile").write_text(
        f"FROM {current}\nLABEL factory.sandbox.digest={stale_digest}\n"
    )
    docker_api.run_cli(["build", "-q", "-t", stale, str(tmp_path)], "build a stale image",
                       capture_output=True)  # fmt: skip
    docker_api.tag_image(current, REPOSITORY, f"test-{suffix}")
    try:
        # Everything else on this shared daemon is kept, as a build keeps its own tags.
        keep = _all_tags() - {stale, users}
        removed = remove_stale_builds(keep)
        assert removed == [stale]
        assert users in _all_tags() and stale not in _all_tags()
    finally:
        for tag in (users, stale):
            subprocess.run(["docker", "rmi", tag], capture_output=True, check=False)
