"""Find problem sources by kind: ours and third-party ones, through one entry-point group.

The same shape as :mod:`verifiers.registry`: built-in sources register through the
``factory.sources`` entry-point group a plugin package uses, a plugin is imported
only when first asked for, a broken one fails with its name in the message, and
``FACTORY_DISABLE_PLUGIN_AUTOLOAD=1`` ignores third-party plugins for both groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import Any

from pydantic import BaseModel

from factory.errors import SpecError
from factory.sources.base import SourceContext, is_source_class
from verifiers.errors import PluginError
from verifiers.registry import discover_entry_points

ENTRY_POINT_GROUP = "factory.sources"

_registered: dict[str, type] = {}
# Entry points already imported, by kind and entry-point value: scanning every installed
# distribution costs tens of milliseconds, and specs look their source up several times.
_loaded: dict[str, tuple[str, type]] = {}


def register_source(name: str, source_cls: type) -> None:
    """Register ``source_cls`` under ``name`` at run time (tests, notebooks).

    Packages should use the ``factory.sources`` entry-point group instead.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise SpecError(f"source name {name!r} must be a non-empty word (letters, digits, _ -)")
    if not is_source_class(source_cls):
        raise SpecError(
            f"source {name!r}: {source_cls!r} is not a source class (needs an Options "
            "pydantic model and a problems() or parse_response() method)"
        )
    if name in _registered or name in _entry_points():
        raise SpecError(f"a source named {name!r} is already registered")
    _registered[name] = source_cls


def unregister_source(name: str) -> None:
    """Remove a source registered with :func:`register_source`."""
    _registered.pop(name, None)


def _entry_points() -> dict[str, EntryPoint]:
    try:
        return discover_entry_points(ENTRY_POINT_GROUP, kind="source")
    except PluginError as exc:
        raise SpecError(str(exc)) from None


def available_sources() -> list[str]:
    """Kinds of every source that can be asked for, sorted."""
    return sorted(set(_entry_points()) | set(_registered))


def get_source_class(kind: str) -> type:
    """The class registered for ``kind``; SpecError names the known kinds if there is none."""
    if kind in _registered:
        return _registered[kind]
    if kind in _loaded:
        return _loaded[kind][1]
    eps = _entry_points()
    if kind not in eps:
        known = ", ".join(available_sources()) or "none"
        raise SpecError(f"no source kind {kind!r} (known: {known})")
    ep = eps[kind]
    dist = ep.dist.name if ep.dist is not None else "unknown distribution"
    try:
        loaded = ep.load()
    except Exception as exc:  # a plugin's import error is reported with its name
        raise SpecError(
            f"source plugin {kind!r} ({ep.value}, from {dist}) failed to import: {exc}"
        ) from exc
    if not is_source_class(loaded):
        raise SpecError(
            f"source plugin {kind!r} ({ep.value}) is not a source class (needs an Options "
            "pydantic model and a problems() or parse_response() method)"
        )
    _loaded[kind] = (ep.value, loaded)
    return loaded


def options_model(kind: str) -> type[BaseModel]:
    """The pydantic model the options of a ``kind`` source are validated against."""
    return get_source_class(kind).Options


def build_source(kind: str, options: BaseModel | Mapping[str, Any], context: SourceContext) -> Any:
    """Build the ``kind`` source from its (validated or raw) options and a context."""
    cls = get_source_class(kind)
    if not isinstance(options, cls.Options):
        options = cls.Options.model_validate(dict(options))
    return cls(options, context)
