"""The one place that talks to Docker outside a container's attach pipe, and the one place
that turns Docker SDK/CLI failures into our errors (`SandboxUnavailable`, `SandboxInfraError`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import docker
import docker.errors
import requests.exceptions

from sandbox.errors import SandboxInfraError, SandboxUnavailable

ENSURE_DOCKER = "sudo bash scripts/ensure_docker.sh"
BUILD_IMAGE = "factory sandbox build"
DEFAULT_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class Problem:
    """Something missing, in plain words, and the command that fixes it."""

    what: str
    fix: str

    def line(self) -> str:
        return f"{self.what}; fix: {self.fix}"


NO_DOCKER_CLI = Problem("the docker command is not installed", ENSURE_DOCKER)


def _socket_path() -> str | None:
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    parsed = urlparse(host)
    return parsed.path if parsed.scheme == "unix" else None


def diagnose_daemon() -> Problem | None:
    """Why Docker cannot be used right now, or None when the daemon answers."""
    if shutil.which("docker") is None:
        return NO_DOCKER_CLI
    host = os.environ.get("DOCKER_HOST")
    where = f"DOCKER_HOST={host}" if host else DEFAULT_SOCKET
    sock = _socket_path()
    if sock is not None:
        if not os.path.exists(sock):
            fix = "unset DOCKER_HOST or start that daemon" if host else ENSURE_DOCKER
            return Problem(f"the Docker daemon is not running (no socket at {sock})", fix)
        if not os.access(sock, os.R_OK | os.W_OK):
            return Problem(
                f"no permission on the Docker socket {sock}",
                "sudo usermod -aG docker $USER && newgrp docker (or run as root)",
            )
    try:
        client = docker.from_env(timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        fix = "unset DOCKER_HOST or start that daemon" if host else ENSURE_DOCKER
        return Problem(f"the Docker daemon does not answer at {where} ({_short(exc)})", fix)
    return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


def client() -> docker.DockerClient:
    """A connected Docker client, or SandboxUnavailable naming the fix."""
    problem = diagnose_daemon()
    if problem is not None:
        raise SandboxUnavailable(problem.line())
    with translate_errors("connect to Docker"):
        return docker.from_env(timeout=60)


@contextlib.contextmanager
def translate_errors(doing: str) -> Iterator[None]:
    """Map Docker SDK and CLI failures to our errors, in one place."""
    try:
        yield
    except (SandboxUnavailable, SandboxInfraError):
        raise
    except docker.errors.ImageNotFound as exc:
        line = f"image not found while trying to {doing}; fix: {BUILD_IMAGE}"
        raise SandboxUnavailable(line) from exc
    except (requests.exceptions.ConnectionError, FileNotFoundError) as exc:
        problem = diagnose_daemon()
        line = problem.line() if problem else f"cannot reach Docker to {doing}: {_short(exc)}"
        raise SandboxUnavailable(line) from exc
    except (docker.errors.DockerException, subprocess.SubprocessError, OSError) as exc:
        raise SandboxInfraError(f"Docker failed to {doing}: {_short(exc)}") from exc


def image_exists(tag: str) -> bool:
    cli = client()
    try:
        with translate_errors(f"inspect image {tag}"):
            try:
                cli.images.get(tag)
            except docker.errors.ImageNotFound:
                return False
            return True
    finally:
        cli.close()


def image_id(tag: str) -> str:
    cli = client()
    try:
        with translate_errors(f"inspect image {tag}"):
            return cli.images.get(tag).id
    finally:
        cli.close()


def tag_image(source: str, repository: str, tag: str) -> None:
    cli = client()
    try:
        with translate_errors(f"tag {source}"):
            cli.images.get(source).tag(repository, tag)
    finally:
        cli.close()


def list_containers(label: str) -> list[dict[str, str]]:
    """Every container (running or not) carrying `label`: id, name, image and its labels.
    One list call, no per-container inspect, so a container vanishing meanwhile is fine."""
    cli = client()
    try:
        with translate_errors("list sandbox containers"):
            found = cli.api.containers(all=True, filters={"label": label})
            return [
                {
                    "id": c["Id"],
                    "name": (c.get("Names") or ["/"])[0].lstrip("/"),
                    "image": c.get("Image", ""),
                    **(c.get("Labels") or {}),
                }
                for c in found
            ]
    finally:
        cli.close()


def remove_container(name_or_id: str) -> None:
    """Force-remove a container; absent is fine."""
    cli = client()
    try:
        with translate_errors(f"remove container {name_or_id}"):
            try:
                cli.containers.get(name_or_id).remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc) and "No such container" not in str(exc):
                    raise
    finally:
        cli.close()


def run_cli(args: list[str], doing: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the docker CLI (build, import); a non-zero exit becomes SandboxInfraError."""
    if shutil.which("docker") is None:
        raise SandboxUnavailable(NO_DOCKER_CLI.line())
    with translate_errors(doing):
        proc = subprocess.run(["docker", *args], **kwargs)
    if proc.returncode != 0:
        problem = diagnose_daemon()
        if problem is not None:
            raise SandboxUnavailable(problem.line())
        tail = proc.stderr[-2000:] if proc.stderr else "see the output above"
        if isinstance(tail, bytes):
            tail = tail.decode("utf-8", "replace")
        code = proc.returncode
        raise SandboxInfraError(f"docker {args[0]} failed to {doing} (exit {code}): {tail}")
    return proc
