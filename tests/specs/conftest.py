"""Shared set-up for the spec tests: the built-in sources' entry points (see
tests/sources/pending_entry_points.py, loaded by path so both test dirs share it)."""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "sources" / "pending_entry_points.py"
_spec = importlib.util.spec_from_file_location("pending_entry_points", _path)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
_module.ensure()
