"""factory: a verified math and code data factory."""

__version__ = "0.1.0"
