"""Shared by the harness scripts INSIDE the sandbox: report channel, plan, safe value encoding.

Imported before the candidate's code, so every builtin and function used here is
bound at import time; later monkey-patching of ``builtins``/``json``/``os`` by the
candidate does not reach these references (a hostile solution can still reach
this module's memory: see the package docstring for what that means).

Value encoding (``encode``) turns a Python value into JSON-able data without
calling any method the candidate could have defined: only exact builtin types
(and a few stdlib ones, read through their base-class slots) are encoded; anything
else becomes ``{"$t": "opaque", "type": ...}``, which the parent never equals to
anything. The parent decodes with ``json`` and its own decoder, never ``eval``.
"""

from __future__ import annotations

import builtins as _builtins_mod
import collections as _collections
import contextlib
import decimal as _decimal
import fractions as _fractions
import json as _json
import os as _os
import sys as _sys

_type = type
_len = len
_isinstance = isinstance
_issubclass = issubclass
_list = list
_tuple = tuple
_dict = dict
_str = str
_int = int
_float = float
_bool = bool
_bytes = bytes
_complex = complex
_set = set
_frozenset = frozenset
_range = range
_slice = slice
_enumerate = enumerate
_AssertionError = AssertionError
_hex = hex
_iter = iter
_next = next
_getattr = getattr
_callable = callable
_BaseException = BaseException
_StopIteration = StopIteration
_RecursionError = RecursionError
_ValueError = ValueError
_dumps = _json.dumps
_quote = _json.encoder.encode_basestring_ascii  # C function: no builtins looked up
_int_repr = int.__repr__
_float_repr = float.__repr__
_scan_once = _json.decoder.JSONDecoder().scan_once  # C scanner: no builtins looked up
_bytes_decode = bytes.decode


def _loads(data: object) -> object:
    """JSON text (str or UTF-8 bytes) to data without ``json.loads``, which looks up
    ``isinstance`` and ``len`` in ``builtins`` at call time (a solution may patch them)."""
    text = _bytes_decode(data, "utf-8", "surrogatepass") if _type(data) is _bytes else data
    try:
        value, _end = _scan_once(text, 0)
    except _StopIteration:
        raise _ValueError("malformed JSON") from None
    return value


_sorted = sorted


def _canonical(item: object) -> str:
    return _dumps(item, sort_keys=True)


_write = _os.write
_remove = _os.remove
_exit = _os._exit
_environ_get = _os.environ.get
_sys_exc_info = _sys.exc_info

_BUILTINS_SNAPSHOT = _dict(_builtins_mod.__dict__)

MAX_DEPTH = 100
MAX_ITEMS = 200_000
MAX_ITER = 100_000

_ITERATOR_TYPES = _frozenset(
    _type(x)
    for x in (
        (i for i in ()),
        map(abs, ()),
        filter(None, ()),
        zip(),
        reversed([]),
        enumerate(()),
        _iter([]),
        _iter(()),
        _iter(""),
        _iter(_set()),
        _iter(_range(0)),
        {}.keys(),
        {}.values(),
        {}.items(),
        _iter({}),
    )
)
_DICT_LIKE = _frozenset(
    {_dict, _collections.OrderedDict, _collections.defaultdict, _collections.Counter}
)

_NUMPY: dict = {}


def prepare_numpy() -> None:
    """Import numpy before the candidate (when it is used) and keep its exact scalar types."""
    try:
        import numpy as np
    except _BaseException:
        return
    _NUMPY["ndarray"] = np.ndarray
    _NUMPY["tolist"] = np.ndarray.tolist
    _NUMPY["item"] = np.generic.item
    _NUMPY["scalars"] = _frozenset(t for t in np.sctypeDict.values() if _isinstance(t, _type))


def snapshot_builtins() -> dict:
    """A copy of the original builtins, for namespaces the test code runs in."""
    return _dict(_BUILTINS_SNAPSHOT)


class _Budget:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items = 0


class EncodeError(Exception):
    pass


def encode(value: object, other=None) -> object:
    """Encode ``value`` as JSON-able tagged data, reading only exact builtin types.

    ``other(v)`` encodes what is not plain data (the candidate names its objects by a
    reference; the judge refuses them); without it such values become opaque."""
    return _enc(value, 0, _Budget(), other)


def _tagged(tag: str, v: object) -> dict:
    return {"$t": tag, "v": v}


def _enc(v: object, depth: int, budget: _Budget, other=None) -> object:
    if depth > MAX_DEPTH:
        raise EncodeError("value nested too deeply")
    budget.items += 1
    if budget.items > MAX_ITEMS:
        raise EncodeError("value too large")
    t = _type(v)
    if v is None or t is _bool:
        return v
    if t is _int:
        if -(2**63) < v < 2**63:  # big ints as hex: no str-digits limit either side
            return v
        return _tagged("inthex", _hex(v))
    if t is _float:
        if v != v or v in (_float("inf"), _float("-inf")):
            return _tagged("float", _float.__repr__(v))
        return v
    if t is _str:
        return v
    if t is _list:
        return [_enc(x, depth + 1, budget, other) for x in _list.copy(v)]
    if t is _tuple:
        return _tagged("tuple", [_enc(x, depth + 1, budget, other) for x in v])
    if t in _DICT_LIKE:
        return _tagged(
            "dict",
            [
                [_enc(k, depth + 1, budget, other), _enc(x, depth + 1, budget, other)]
                for k, x in _dict.items(v)
            ],
        )
    if t is _set or t is _frozenset:
        items = [_enc(x, depth + 1, budget, other) for x in (_set.copy(v) if t is _set else v)]
        items = _sorted(items, key=_canonical)  # a canonical order: sets have none
        return _tagged("set" if t is _set else "frozenset", items)
    if t is _bytes:
        return _tagged("bytes", _bytes.hex(v))
    if t is _complex:
        return _tagged(
            "complex", [_enc(v.real, depth, budget, other), _enc(v.imag, depth, budget, other)]
        )
    if t is _range:
        return _tagged("range", [v.start, v.stop, v.step])
    if t is _fractions.Fraction:
        return _tagged("fraction", [_str(v.numerator), _str(v.denominator)])
    if t is _decimal.Decimal:
        return _tagged("decimal", _decimal.Decimal.__str__(v))
    if t is _collections.deque:
        return _tagged("deque", [_enc(x, depth + 1, budget, other) for x in _list(v)])
    if t in _ITERATOR_TYPES:
        out = []
        it = _iter(v)
        for _ in _range(MAX_ITER):
            try:
                out.append(_enc(_next(it), depth + 1, budget, other))
            except _StopIteration:
                return _tagged("iter", out)
        raise EncodeError("iterator too long")
    if _NUMPY:
        if t is _NUMPY["ndarray"]:
            return _enc(_NUMPY["tolist"](v), depth + 1, budget, other)
        if t in _NUMPY["scalars"]:
            return _enc(_NUMPY["item"](v), depth + 1, budget, other)
    # Subclasses of plain types that keep the base equality read as the base type.
    for base in (_int, _float, _str, _tuple, _list):
        if _issubclass(t, base) and t is not _bool:
            eq = _type.__getattribute__(t, "__eq__")
            if eq is base.__eq__ and _type.__getattribute__(t, "__hash__") is base.__hash__:
                if base is _int:
                    return _enc(_int.__add__(v, 0), depth, budget, other)
                if base is _float:
                    return _enc(_float.__float__(v), depth, budget, other)
                if base is _str:
                    return _enc(_str.__str__(v), depth, budget, other)
                if base is _tuple:
                    return _enc(_tuple.__getitem__(v, _slice(None)), depth, budget, other)
                return _enc(_list.copy(v), depth, budget, other)
            break
    if other is not None:
        return other(v)
    return {"$t": "opaque", "type": _str(_getattr(t, "__qualname__", "?"))[:100]}


def decode(obj: object, ref=None) -> object:
    """Inverse of :func:`encode` for plain data. ``ref(tagged)`` turns a reference tag into
    an object (the other process's object); without it a reference is an error. Nothing is
    evaluated: malformed data raises ValueError, TypeError, KeyError or RecursionError."""
    t = _type(obj)
    if t is _list:
        return [decode(x, ref) for x in obj]
    if obj is None or t is _bool or t is _int or t is _float or t is _str:
        return obj
    if t is not _dict:
        raise _ValueError(f"cannot decode a {t.__name__}")
    tag, v = obj.get("$t"), obj.get("v")
    if tag == "ref" and ref is not None:
        return ref(obj)
    if tag == "tuple":
        return _tuple(decode(x, ref) for x in v)
    if tag == "dict":
        return {decode(k, ref): decode(x, ref) for k, x in v}
    if tag == "set":
        return {decode(x, ref) for x in v}
    if tag == "frozenset":
        return _frozenset(decode(x, ref) for x in v)
    if tag == "inthex":
        return _int(v, 16)
    if tag == "float":
        return _float(v)
    if tag == "bytes":
        return _bytes.fromhex(v)
    if tag == "complex":
        return _complex(decode(v[0]), decode(v[1]))
    if tag == "range":
        return _range(*v)
    if tag == "fraction":
        return _fractions.Fraction(_int(v[0]), _int(v[1]))
    if tag == "decimal":
        return _decimal.Decimal(v)
    if tag == "deque":
        return _collections.deque(decode(x, ref) for x in v)
    if tag == "iter":  # what an iterator yielded: an iterator again, never equal to a list
        return _iter([decode(x, ref) for x in v])
    raise _ValueError(f"cannot decode {tag!r}")


def describe_exception(exc: BaseException) -> dict:
    """Type name and a capped message, read without trusting the exception's own methods."""
    t = _type(exc)
    try:
        msg = _str(exc)
    except _BaseException:
        msg = "<unprintable>"
    if _type(msg) is not _str:
        msg = "<unprintable>"
    return {"type": _str(_getattr(t, "__name__", "?")), "message": msg[:500]}


def is_assertion(exc: BaseException) -> bool:
    return _type(exc) is _AssertionError


def to_json(obj: object, depth: int = 0) -> str:
    """JSON text of plain data, using only references saved before the candidate ran
    (``json.dumps`` looks up ``isinstance`` & co. in ``builtins`` at call time)."""
    if depth > MAX_DEPTH + 10:
        raise _ValueError("too deep")
    t = _type(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if t is _str:
        return _quote(obj)
    if t is _int:
        return _int_repr(obj)
    if t is _float:
        if obj != obj:
            return "NaN"
        if obj in (_float("inf"), _float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return _float_repr(obj)
    if t is _list or t is _tuple:
        return "[" + ",".join([to_json(x, depth + 1) for x in obj]) + "]"
    if t is _dict:
        items = [_quote(k) + ":" + to_json(v, depth + 1) for k, v in _dict.items(obj)]
        return "{" + ",".join(items) + "}"
    raise TypeError("not JSON data")


class Reporter:
    """Writes JSON lines with the nonce to the report fd (bound before the candidate runs)."""

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce
        self._fd = _int(_environ_get("FACTORY_REPORT_FD", "3"))

    def emit(self, event: str, **fields: object) -> None:
        rec = {"nonce": self._nonce, "event": event, **fields}
        try:
            line = to_json(rec)
        except (_ValueError, TypeError, _RecursionError):
            rec = {"nonce": self._nonce, "event": event, "unencodable": True}
            for key in ("step", "i"):
                if key in fields:
                    rec[key] = fields[key]
            line = to_json(rec)
        data = (line + "\n").encode("utf-8", "surrogatepass")
        while data:
            n = _write(self._fd, data)
            data = data[n:]


def load_plan(path: str = "plan.json") -> dict:
    """Read the job's plan and delete the file, so the candidate cannot read it from disk."""
    with open(path, encoding="utf-8") as fh:
        plan = _loads(fh.read())
    with contextlib.suppress(OSError):
        _remove(path)
    return plan


def hard_exit(code: int) -> None:
    """Leave without running atexit hooks or flushing anything the candidate installed."""
    for stream in (_sys.__stdout__, _sys.__stderr__):
        with contextlib.suppress(_BaseException):
            stream.flush()
    _exit(code)


def import_solution(path: str = "solution.py", name: str = "solution"):
    """Execute the solution file as module ``name`` and return the module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    _sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_entry_point(report: Reporter, name: str):
    """Import the solution and return its ``name``, reporting each step; on an import error
    or a missing entry point, report it and leave the process (the parent decides)."""
    report.emit("import_start")
    try:
        module = import_solution()
    except BaseException as exc:
        report.emit("import_error", syntax=_isinstance(exc, SyntaxError), **describe_exception(exc))
        hard_exit(0)
    report.emit("import_ok")
    fn = _getattr(module, name, None)
    if not _callable(fn):
        report.emit("entry_missing", name=name)
        hard_exit(0)
    return fn


def call_each(report: Reporter, fn, inputs: list) -> None:
    """Call ``fn`` on each encoded input; report each call's encoded value or exception."""
    for i, item in _enumerate(inputs):
        report.emit("start", i=i)
        try:
            args = decode(item["args"])
            kwargs = {k: decode(x) for k, x in item["kwargs"].items()}
            value = encode(fn(*args, **kwargs))
        except _BaseException as exc:
            report.emit("end", i=i, ok=False, **describe_exception(exc))
        else:
            report.emit("end", i=i, ok=True, value=value)
