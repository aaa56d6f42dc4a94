"""Named errors of the factory pipeline layer. Each message says what to do."""


class FactoryError(Exception):
    """Base class of factory's own errors (the CLI prints these as one line)."""


class InputFileError(FactoryError):
    """An input file is missing or a line in it is malformed; names the file, line and field."""
