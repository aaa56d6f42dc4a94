"""The sandbox's few named errors. Docker SDK/CLI failures are translated into these in
`sandbox.docker_api`, so no other module sees a docker exception."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every error the sandbox raises."""


class SandboxUnavailable(SandboxError):
    """Docker is missing, the daemon is down, the socket is not ours, or the image is absent.

    The message is one readable line that names the command which fixes it.
    """


class SandboxInfraError(SandboxError):
    """The sandbox itself failed (container died, daemon error, runner crash, protocol garbage)
    even after one retry on a fresh container. Says nothing about the job's code."""


class PreflightError(SandboxError):
    """The self-test of the limits failed in the real image: the sandbox is not safe to use."""
