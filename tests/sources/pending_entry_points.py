"""Make this interpreter's entry points match pyproject.toml plus the built-in sources.

TEMPORARY, remove once pyproject.toml declares the ``factory.sources`` group and the
environment is reinstalled (scripts/bootstrap.sh does so when pyproject changes).
Until then an installed-but-stale ``factory`` lacks these entry points; we add the
missing ones through a real ``*.dist-info`` on ``sys.path``, the same mechanism pip
uses, so the registries under test run unmodified. Names already installed are left
alone, and ``test_builtin_sources_are_declared_in_pyproject`` fails until pyproject
catches up, so this cannot hide a missing declaration.
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BUILTIN_SOURCES = {
    "llm": "factory.sources.llm:LLMSource",
    "file": "factory.sources.file:FileSource",
    "procedural": "factory.sources.procedural:ProceduralSource",
    "mix": "factory.sources.mix:MixSource",
}


def wanted() -> dict[str, dict[str, str]]:
    """Entry points this repo declares (pyproject) or is about to (built-in sources)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = {g: dict(v) for g, v in project.get("entry-points", {}).items()}
    groups.setdefault("factory.sources", {})
    for name, value in BUILTIN_SOURCES.items():
        groups["factory.sources"].setdefault(name, value)
    return groups


def ensure() -> None:
    """Add a dist-info declaring every wanted entry point not installed yet."""
    missing: dict[str, dict[str, str]] = {}
    for group, declared in wanted().items():
        installed = {ep.name for ep in entry_points(group=group)}
        extra = {n: v for n, v in declared.items() if n not in installed}
        if extra:
            missing[group] = extra
    if not missing:
        return
    root = Path(tempfile.mkdtemp(prefix="factory-pending-eps-"))
    info = root / "factory_pending_entry_points-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: factory-pending-entry-points\nVersion: 0\n"
    )
    text = "".join(
        f"[{group}]\n" + "".join(f"{n} = {v}\n" for n, v in eps.items()) + "\n"
        for group, eps in missing.items()
    )
    (info / "entry_points.txt").write_text(text)
    sys.path.append(str(root))
