"""Named errors of the factory pipeline layer. Each message says what to do."""


class FactoryError(Exception):
    """Base class of factory's own errors (the CLI prints these as one line)."""


class InputFileError(FactoryError):
    """An input file is missing or a line in it is malformed; names the file, line and field."""


class RunDirError(FactoryError):
    """A run directory is missing, half-written, or from another format version."""


class BudgetExceeded(FactoryError):
    """A hard budget cap (USD, tokens, problems) was reached; the run stopped cleanly."""


class SpecError(FactoryError):
    """A problem spec is invalid; the message names the file, the field path and the fix."""
