"""Build the sandbox image, from a registry (`Dockerfile`) or offline (debootstrap + import).

The tag is a content digest: sha256 over the variant, its Dockerfile, the runner source and the
package list, cut to 12 hex, e.g. `factory-sandbox:0123456789ab`; the image is also tagged
`factory-sandbox:latest`. `expected_tags()` gives the tags the current source would build, so a
pool refuses an image built from an older runner.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Literal

import docker

from sandbox import docker_api
from sandbox.errors import SandboxError, SandboxInfraError, SandboxUnavailable

REPOSITORY = "factory-sandbox"
BASE_REPOSITORY = "factory-sandbox-base"
PACKAGE_DIR = Path(__file__).parent
IMAGE_DIR = PACKAGE_DIR / "image"
RUNNER = PACKAGE_DIR / "runner" / "runner.py"
APT_PACKAGES = IMAGE_DIR / "apt-packages.txt"
SUITE = "bookworm"
MIRROR = os.environ.get("FACTORY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
REGISTRY_PROBE = "https://registry-1.docker.io/v2/"

Variant = Literal["offline", "dockerfile"]
Mode = Literal["auto", "offline", "dockerfile"]


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "factory" / "sandbox"


def _dockerfile(variant: Variant) -> Path:
    return IMAGE_DIR / ("Dockerfile.offline" if variant == "offline" else "Dockerfile")


def apt_packages() -> list[str]:
    lines = APT_PACKAGES.read_text().splitlines()
    return [p.strip() for p in lines if p.strip() and not p.startswith("#")]


def base_digest() -> str:
    text = f"{SUITE}\nminbase\n" + "\n".join(apt_packages())
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def digest(variant: Variant) -> str:
    h = hashlib.sha256()
    h.update(variant.encode() + b"\0")
    h.update(_dockerfile(variant).read_bytes() + b"\0")
    h.update(RUNNER.read_bytes() + b"\0")
    if variant == "offline":
        h.update(base_digest().encode())
    return h.hexdigest()[:12]


def expected_tags() -> list[str]:
    return [f"{REPOSITORY}:{digest('offline')}", f"{REPOSITORY}:{digest('dockerfile')}"]


def resolve_image() -> str:
    """The tag of a built image matching the current source, or SandboxUnavailable."""
    tags = expected_tags()
    for tag in tags:
        if docker_api.image_exists(tag):
            return tag
    stale = (
        " (factory-sandbox:latest is from older sources)"
        if docker_api.image_exists(f"{REPOSITORY}:latest")
        else ""
    )
    raise SandboxUnavailable(
        f"the sandbox image {tags[0]} is absent{stale}; fix: {docker_api.BUILD_IMAGE}"
    )


def registry_reachable(timeout_s: float = 4.0) -> bool:
    try:
        urllib.request.urlopen(REGISTRY_PROBE, timeout=timeout_s)
    except urllib.error.HTTPError:
        return True  # 401 means it answers
    except (OSError, ValueError):
        return False
    return True


def _log(message: str) -> None:
    print(f"[sandbox build] {message}", file=sys.stderr, flush=True)


def _rootfs_tarball(refresh: bool = False) -> Path:
    """The cached debootstrap minbase rootfs as a tar, made once (about a minute)."""
    tarball = cache_dir() / f"rootfs-{SUITE}-{base_digest()}.tar"
    if tarball.exists() and not refresh:
        _log(f"using cached rootfs {tarball}")
        return tarball
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable(
            "debootstrap is not installed; fix: sudo apt-get install -y debootstrap "
            "(or sudo bash scripts/ensure_docker.sh)"
        )
    if os.geteuid() != 0:
        raise SandboxError("the offline build runs debootstrap and needs root; rerun with sudo")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="factory-rootfs-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "rootfs"
        include = ",".join(apt_packages())
        _log(f"debootstrap {SUITE} minbase with {include} (about a minute)")
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={include}", SUITE, str(root), MIRROR],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / junk).glob("*"):
                if entry.is_file():
                    entry.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], check=True
        )
        partial.rename(tarball)
    _log(f"cached rootfs at {tarball}")
    return tarball


def _build(variant: Variant, tag: str, buildargs: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="factory-sandbox-ctx-") as ctx:
        ctx_path = Path(ctx)
        shutil.copy(_dockerfile(variant), ctx_path / "Dockerfile")
        (ctx_path / "runner").mkdir()
        shutil.copy(RUNNER, ctx_path / "runner" / "runner.py")
        args = ["build", "-t", tag, "--label", f"factory.sandbox.digest={tag.split(':')[1]}"]
        args += ["--label", f"factory.sandbox.variant={variant}"]
        for key, value in buildargs.items():
            args += ["--build-arg", f"{key}={value}"]
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        docker_api.run_cli([*args, str(ctx_path)], f"build {tag}", env=env, stdout=sys.stderr)


def remove_stale_builds(keep: set[str]) -> list[str]:
    """Untag images earlier builds made and ``keep`` does not name; returns the tags removed.

    A build tags its image `factory-sandbox:<digest>` and labels it with that digest, so only
    a tag whose name is its own image's digest label is ours. Any other tag in the repository
    (`factory-sandbox:test`, made by a person or another tool) is left alone, as is an image
    in use by a container.
    """
    cli = docker_api.client()
    removed = []
    try:
        with docker_api.translate_errors(f"prune old {REPOSITORY} images"):
            for image in cli.images.list(name=REPOSITORY):
                digest_label = (image.labels or {}).get("factory.sandbox.digest")
                for name in image.tags:
                    if name in keep or digest_label is None:
                        continue
                    if name != f"{REPOSITORY}:{digest_label}":
                        continue
                    try:
                        cli.images.remove(name, noprune=False)
                        removed.append(name)
                    except docker.errors.APIError:
                        pass  # in use by a container; the next build tries again
    finally:
        cli.close()
    return removed


def build_image(mode: Mode = "auto", *, force: bool = False) -> str:
    """Build (or find) the sandbox image; return its digest tag. Also tags `:latest`."""
    if docker_api.diagnose_daemon() is not None:
        docker_api.client()  # raises SandboxUnavailable with the fix
    variant: Variant
    if mode == "auto":
        variant = "dockerfile" if registry_reachable() else "offline"
        state = "reachable" if variant == "dockerfile" else "unreachable"
        _log(f"registry {state}: {variant} build")
    else:
        variant = mode
    tag = f"{REPOSITORY}:{digest(variant)}"
    if docker_api.image_exists(tag) and not force:
        _log(f"{tag} is already built")
    elif variant == "dockerfile":
        try:
            _build("dockerfile", tag, {})
        except SandboxInfraError as exc:
            if registry_reachable():
                raise
            line = "the registry is unreachable for FROM python:3.11-slim"
            raise SandboxUnavailable(f"{line}; fix: factory sandbox build --offline") from exc
    else:
        base = f"{BASE_REPOSITORY}:{base_digest()}"
        if not docker_api.image_exists(base) or force:
            tarball = _rootfs_tarball(refresh=False)
            _log(f"docker import {tarball.name} as {base}")
            docker_api.run_cli(
                ["import", str(tarball), base], f"import {base}", capture_output=True
            )
        _build("offline", tag, {"BASE": base})
    docker_api.tag_image(tag, REPOSITORY, "latest")
    keep = {tag, f"{REPOSITORY}:latest", *expected_tags()}
    for old in remove_stale_builds(keep):
        _log(f"removed the stale image {old}")
    _log(f"ready: {tag} (also tagged {REPOSITORY}:latest)")
    return tag
