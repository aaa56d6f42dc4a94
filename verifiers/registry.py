"""Find verifiers by name: ours and third-party ones, through one entry-point group.

Built-in verifiers register through the same ``factory.verifiers`` entry-point
group a plugin package uses (see pyproject.toml), so nothing of ours is special.
A plugin is imported only when first asked for, and a broken one fails with its
name and distribution in the message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from verifiers.base import Verifier
from verifiers.errors import PluginError, UnknownVerifierError

ENTRY_POINT_GROUP = "factory.verifiers"
# Set to 1 to ignore third-party plugins (only this project's own distribution counts).
DISABLE_PLUGINS_ENV = "FACTORY_DISABLE_PLUGIN_AUTOLOAD"
_OWN_DISTRIBUTION = "factory"

_registered: dict[str, Callable[..., Verifier]] = {}


def register_verifier(name: str, factory: Callable[..., Verifier]) -> None:
    """Register ``factory`` (a class or callable returning a Verifier) under ``name``.

    For verifiers defined at run time (tests, notebooks). Packages should use the
    ``factory.verifiers`` entry-point group instead.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise PluginError(f"verifier name {name!r} must be a non-empty word (letters, digits, _ -)")
    if not callable(factory):
        raise PluginError(f"verifier {name!r}: {factory!r} is not callable")
    if name in _registered or name in _entry_points():
        raise PluginError(f"a verifier named {name!r} is already registered")
    _registered[name] = factory


def unregister_verifier(name: str) -> None:
    """Remove a verifier registered with :func:`register_verifier`."""
    _registered.pop(name, None)


def discover_entry_points(group: str, *, kind: str = "plugin") -> dict[str, EntryPoint]:
    """Entry points of ``group`` by name, honouring the plugin switch-off variable.

    Shared by every registry of the project (verifiers here, problem sources in
    factory), so all plugins are found, switched off and checked the same way.
    Two packages claiming one name is a PluginError naming both.
    """
    found: dict[str, EntryPoint] = {}
    plugins_off = os.environ.get(DISABLE_PLUGINS_ENV, "") not in ("", "0")
    for ep in entry_points(group=group):
        dist = ep.dist.name if ep.dist is not None else ""
        if plugins_off and dist != _OWN_DISTRIBUTION:
            continue
        if ep.name in found and found[ep.name].value != ep.value:
            raise PluginError(
                f"two packages register a {kind} named {ep.name!r}: "
                f"{found[ep.name].value} and {ep.value}; uninstall one"
            )
        found[ep.name] = ep
    return found


def _entry_points() -> dict[str, EntryPoint]:
    return discover_entry_points(ENTRY_POINT_GROUP, kind="verifier")


def available_verifiers() -> list[str]:
    """Names of every verifier that can be asked for, sorted."""
    return sorted(set(_entry_points()) | set(_registered))


def _load(name: str) -> Callable[..., Verifier]:
    if name in _registered:
        return _registered[name]
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(available_verifiers()) or "none"
        raise UnknownVerifierError(f"no verifier named {name!r} (known: {known})")
    ep = eps[name]
    dist = ep.dist.name if ep.dist is not None else "unknown distribution"
    try:
        loaded = ep.load()
    except Exception as exc:  # a plugin's import error is reported with its name
        raise PluginError(
            f"verifier plugin {name!r} ({ep.value}, from {dist}) failed to import: {exc}"
        ) from exc
    if not callable(loaded):
        raise PluginError(f"verifier plugin {name!r} ({ep.value}) is not a class or callable")
    return loaded


def get_verifier(name: str, **options: Any) -> Verifier:
    """Build the verifier registered as ``name`` with ``options``.

    Raises UnknownVerifierError for an unknown name and PluginError when the
    plugin cannot be imported or does not implement the Verifier interface.
    """
    factory = _load(name)
    try:
        verifier = factory(**options)
    except TypeError as exc:
        raise PluginError(f"verifier {name!r} rejected options {sorted(options)}: {exc}") from exc
    if not isinstance(verifier, Verifier):
        raise PluginError(
            f"verifier {name!r} does not implement the Verifier interface "
            "(needs attributes name, version and a verify(problem, candidate) method)"
        )
    return verifier
