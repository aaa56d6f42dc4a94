"""The worker pool's errors: a call that could not complete normally in its worker."""

from __future__ import annotations


class WorkerError(RuntimeError):
    """The bounded call could not complete normally in its worker process.

    Base of :class:`WorkerTimeout` and :class:`WorkerCrashed`; raised as itself when
    ``fn`` raised an exception that cannot be pickled back to the caller.
    """


class WorkerTimeout(WorkerError, TimeoutError):
    """The call was not done within ``timeout_s``; its worker was killed."""


class WorkerCrashed(WorkerError):
    """The worker died during the call or ran out of its memory cap.

    ``cause`` is ``"memory"`` (a ``MemoryError`` under the cap), ``"signal"`` (killed by
    a signal: SIGKILL from the OOM killer or a user, SIGSEGV, ...) or ``"exit"``.
    """

    def __init__(self, message: str, *, cause: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        return (_rebuild_crashed, (str(self), self.cause, self.exitcode))


def _rebuild_crashed(message: str, cause: str, exitcode: int | None) -> WorkerCrashed:
    return WorkerCrashed(message, cause=cause, exitcode=exitcode)


class RemoteTraceback(Exception):
    """Carries the worker-side traceback text; set as ``__cause__`` of re-raised errors."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'
