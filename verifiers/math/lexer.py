"""Turn an answer string (LaTeX or plain text) into tokens for the parser.

The lexer never evaluates anything. It normalises the many spellings of the
same thing (``\\cdot``, ``\\times``, ``*`` and ``·`` are all ``*``; ``\\le``,
``<=`` and ``≤`` are all ``<=``) so the parser sees a small alphabet:

- ``NUM``   a number literal, separators removed (``1,000`` -> ``1000``, ``1.5e3``)
- ``NAME``  a variable (``x``, ``x_1``, ``alpha``)
- ``CONST`` ``pi``, ``E``, ``I``, ``oo``, ``EmptySet``, ``Reals``
- ``FUNC``  a function name (``sin``, ``log``, ``sqrt``, ``max``...)
- ``CMD``   a LaTeX construct the parser handles itself (``frac``, ``binom``,
  ``begin``/``end`` with the environment name as value)
- ``UNIT``  a unit word (``cm``, ``dollars``) -- dropped when it ends an answer
- ``SEP``   a separator word between answers (``or``, ``and``)
- ``WORD``  any other word
- ``OP``    punctuation and operators (value is the normalised operator)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FUNCTIONS",
    "UNIT_WORDS",
    "MathParseError",
    "Token",
    "normalize",
    "normalize_delimiters",
    "tokenize",
]


class MathParseError(ValueError):
    """The text is not a math answer this parser understands (or is too big to try)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    pos: int = 0

    def is_op(self, *values: str) -> bool:
        return self.kind == "OP" and self.value in values


FUNCTIONS = frozenset(
    {
        "sin", "cos", "tan", "cot", "sec", "csc",
        "arcsin", "arccos", "arctan", "arccot", "arcsec", "arccsc",
        "asin", "acos", "atan",
        "sinh", "cosh", "tanh", "coth",
        "log", "ln", "lg", "exp", "sqrt", "cbrt", "abs",
        "floor", "ceil", "max", "min", "gcd", "lcm",
    }
)  # fmt: skip

GREEK = frozenset(
    {
        "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
        "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho",
        "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
        "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
    }
)  # fmt: skip

UNIT_WORDS = frozenset(
    {
        "cm", "mm", "km", "m", "kg", "g", "mg", "lb", "lbs", "oz", "s", "sec", "secs",
        "second", "seconds", "minute", "minutes", "mins", "hour", "hours", "hr", "hrs",
        "day", "days", "week", "weeks", "month", "months", "year", "years",
        "dollar", "dollars", "cent", "cents", "euro", "euros", "meter", "meters",
        "metre", "metres", "centimeter", "centimeters", "kilometer", "kilometers",
        "millimeter", "millimeters", "foot", "feet", "ft", "inch", "inches", "mile",
        "miles", "mph", "yard", "yards", "liter", "liters", "litre", "litres", "ml",
        "gram", "grams", "kilogram", "kilograms", "pound", "pounds", "ounce", "ounces",
        "unit", "units", "square", "sq", "cubic", "cu", "people", "students",
        "apples", "items", "times", "ways", "points", "km/h", "m/s", "radian", "radians",
        "rad", "acre", "acres", "gallon", "gallons", "ton", "tons", "kph",
    }
)  # fmt: skip
# Unit words the lexer recognises *outside* \text{...}: longer than one letter and
# not a common variable name, so ``5m`` stays 5*m while ``5 cm`` is 5.
_PLAIN_UNIT_WORDS = frozenset(w for w in UNIT_WORDS if len(w) > 1 and w not in {"sq", "cu"})

# Short English words that are never a product of variables.
_COMMON_WORDS = frozenset(
    {
        "the", "not", "are", "for", "but", "has", "was", "you", "its", "can", "get", "see",
        "let", "any", "all", "one", "two", "six", "ten", "yes", "how", "why", "who", "she",
        "his", "her", "our", "out", "now", "use", "way", "may", "say", "too", "set", "put",
        "is", "it", "so", "as", "at", "be", "we", "by", "of", "to", "on", "if", "he", "us",
        "my", "me", "do", "up", "am",
    }
)  # fmt: skip
SEPARATOR_WORDS = frozenset({"or", "and"})
DEGREE_WORDS = frozenset({"degree", "degrees", "deg"})
PERCENT_WORDS = frozenset({"percent", "pct", "percentage"})

_CONST_WORDS = {
    "pi": "pi",
    "infty": "oo",
    "infinity": "oo",
    "inf": "oo",
    "oo": "oo",
    "emptyset": "EmptySet",
    "varnothing": "EmptySet",
}

# LaTeX commands mapped straight to an operator token.
_CMD_OPS = {
    "cdot": "*", "times": "*", "ast": "*", "div": "/", "pm": "pm", "mp": "mp",
    "le": "<=", "leq": "<=", "leqslant": "<=", "ge": ">=", "geq": ">=", "geqslant": ">=",
    "lt": "<", "gt": ">", "ne": "!=", "neq": "!=", "approx": "approx", "simeq": "approx",
    "sim": "approx", "thickapprox": "approx", "equiv": "=", "cup": "cup", "cap": "cap",
    "setminus": "setminus", "in": "in",
    "circ": "circ", "lvert": "|", "rvert": "|", "vert": "|", "mid": "|",
    "lfloor": "lfloor", "rfloor": "rfloor", "lceil": "lceil", "rceil": "rceil",
    "langle": "(", "rangle": ")", "colon": ":", "to": "to", "rightarrow": "to",
    "implies": "sep", "Rightarrow": "sep", "quad": "sep", "qquad": "sep",
}  # fmt: skip
# Commands that produce nothing (spacing, style, sizing).
_CMD_IGNORED = frozenset(
    {
        "displaystyle", "textstyle", "scriptstyle", "left", "right", "big", "Big",
        "bigl", "bigr", "Bigl", "Bigr", "bigg", "Bigg", "biggl", "biggr", "Biggl", "Biggr",
        "limits", "nolimits", "mathbf", "boldsymbol", "mathit", "bf", "it", "rm",
        "cal", "mathcal", "mathsf", "mathtt", "ensuremath", "hbox", "vphantom",
    }
)  # fmt: skip
_ELLIPSIS_CMDS = frozenset({"dots", "ldots", "cdots", "dotsc", "dotsb", "dotso"})
_CMD_TEXT = frozenset(
    {"text", "textrm", "textbf", "textit", "textnormal", "mathrm", "mbox", "operatorname"}
)
_CMD_PARSED = frozenset({"frac", "dfrac", "tfrac", "cfrac", "binom", "dbinom", "tbinom",
                         "sqrt", "begin", "end", "mathbb", "boxed"})  # fmt: skip

_UNICODE = {
    "−": "-", "–": "-", "×": r"\times ", "·": r"\cdot ", "÷": "/", "≤": r"\le ",
    "≥": r"\ge ", "≠": r"\ne ", "π": r"\pi ", "∞": r"\infty ", "°": r"^\circ ",
    "±": r"\pm ", "∓": r"\mp ", "√": r"\sqrt ", "∪": r"\cup ", "∩": r"\cap ",
    "∈": r"\in ", "≈": r"\approx ", "…": r"\ldots ", "\u2009": " ", "\u00a0": " ",
    "\u202f": " ", "’": "'",
    "⁰": "^{0}", "¹": "^{1}", "²": "^{2}", "³": "^{3}", "⁴": "^{4}", "⁵": "^{5}",
    "⁶": "^{6}", "⁷": "^{7}", "⁸": "^{8}", "⁹": "^{9}", "½": r"\frac{1}{2}",
    "⅓": r"\frac{1}{3}", "¼": r"\frac{1}{4}", "¾": r"\frac{3}{4}", "\u200b": "",
}  # fmt: skip

_THOUSANDS_ANY = r"(?:\{,\}|\\,|\\ |\\;|\\!|\\thinspace |(?<=\d) (?=\d{3}(?!\d)))"
_NUM_GROUPED = re.compile(r"\d{1,3}(?:" + _THOUSANDS_ANY + r"\d{3}(?!\d))+")
_NUM_COMMA = re.compile(r"[1-9]\d{0,2}(?:,\d{3}(?![\d]))+")
_NUM = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z]))?")
# "11,\\! 111" and "14 {, }916": a thousands separator with extra spacing, made "{,}"
_GROUP_SEP = re.compile(r"(?<=\d)\s*(?:\{\s*,\s*\}|,\s*\\!\s*)\s*(?=\d{3}(?!\d))")
# "\\\\frac" (a doubled backslash, as from escaping twice) before a known command is that
# command; "\\\\" elsewhere stays a row break.
_DOUBLED_CMD = re.compile(
    r"(?<!\\)\\\\(?=(?:[dtc]?frac|sqrt|pi|text|mathrm|mathbf|cdot|times|left|right|infty"
    r"|boxed|pm|le|ge|neq|circ)(?![A-Za-z]))"
)
_BASE_SUBSCRIPT = re.compile(r"_(?:\{\s*(\d{1,2})\s*\}|(\d))")
_OVER = re.compile(r"\\over(?![A-Za-z])")
_OVERLINE = re.compile(r"\\(?:overline|bar)\s*\{\s*(\d+)\s*\}")
_CMD = re.compile(r"\\([A-Za-z]+|.)")
_SPACE_CMDS = re.compile(r"\\\\|\\[,;:! ]|~|\\quad\b|\\qquad\b")


def normalize_delimiters(text: str) -> str:
    """``text`` without the math-mode delimiters around it (``$..$``, ``\\(..\\)``...)."""
    text = text.strip()
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if text.startswith(left) and text.endswith(right) and len(text) >= 2 * len(left):
            text = text[len(left) : len(text) - len(right)].strip()
    return text


def normalize(text: str) -> str:
    """Replace Unicode math characters and drop math-mode delimiters."""
    for k, v in _UNICODE.items():
        if k in text:
            text = text.replace(k, v)
    return re.sub(r"(?<!\\)\$", " ", normalize_delimiters(text))  # an escaped \$ is a dollar sign


def _space(m: re.Match[str]) -> str:
    """Replacement for spacing commands; a ``\\\\`` row break is kept."""
    cmd = m.group(0)
    if cmd == "\\\\":
        return cmd
    return "" if cmd == "\\!" else " "


def _split_letters(run: str, pos: int, *, spaced: bool = True) -> list[Token]:
    """Split a run of letters into known names and single-letter variables.

    An unknown word standing alone (``5 cookies``, ``is``) becomes a WORD token:
    a unit noun when it ends an answer, an error elsewhere. Glued to what comes
    before, three letters are a product (``2abc``).
    """
    if run in _CONST_WORDS:
        return [Token("CONST", _CONST_WORDS[run], pos)]
    if run in FUNCTIONS:
        return [Token("FUNC", run, pos)]
    if run in GREEK:
        return [Token("NAME", run, pos)]
    if run.lower() in SEPARATOR_WORDS:
        return [Token("SEP", run.lower(), pos)]
    if run.lower() in DEGREE_WORDS:
        return [Token("OP", "circ", pos)]
    if run.lower() in PERCENT_WORDS:
        return [Token("OP", "%", pos)]
    if run in _PLAIN_UNIT_WORDS or run.lower() in _PLAIN_UNIT_WORDS:
        return [Token("UNIT", run, pos)]
    if len(run) >= 4 or run.lower() in _COMMON_WORDS or (spaced and len(run) == 3):
        return [Token("WORD", run, pos)]
    out: list[Token] = []
    i = 0
    names = sorted(FUNCTIONS | {"pi", "sqrt"}, key=len, reverse=True)
    while i < len(run):
        for name in names:
            if run.startswith(name, i) and len(name) > 1:
                kind = "CONST" if name == "pi" else "FUNC"
                out.append(Token(kind, "pi" if name == "pi" else name, pos + i))
                i += len(name)
                break
        else:
            ch = run[i]
            out.append(Token("NAME", ch, pos + i))
            i += 1
    return out


def read_braced(text: str, start: int) -> tuple[str, int] | None:
    """Content of the ``{...}`` group opening at ``text[start]`` and the index after it;
    None when the group never closes. A backslash escapes the next character."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def _read_group(text: str, i: int) -> tuple[str, int]:
    """Read a balanced ``{...}`` group starting at ``text[i] == '{'``."""
    group = read_braced(text, i)
    if group is None:
        raise MathParseError("unbalanced braces")
    return group


def _text_tokens(inner: str, pos: int, depth: int) -> list[Token]:
    """Tokens for the content of ``\\text{...}`` / ``\\mathrm{...}``."""
    stripped = inner.strip()
    low = stripped.lower()
    if not stripped:
        return []
    if low in SEPARATOR_WORDS or low in {"or,", "and,"}:
        return [Token("SEP", low.rstrip(","), pos)]
    if low in DEGREE_WORDS:
        return [Token("OP", "circ", pos)]
    if low in PERCENT_WORDS:
        return [Token("OP", "%", pos)]
    if stripped == "e":
        return [Token("CONST", "E", pos)]
    if low in _CONST_WORDS:
        return [Token("CONST", _CONST_WORDS[low], pos)]
    if stripped == "i":
        return [Token("CONST", "I", pos)]
    if stripped in FUNCTIONS:
        return [Token("FUNC", stripped, pos)]
    words = re.findall(r"[A-Za-z]+(?:/[A-Za-z]+)?", stripped)
    if (
        words
        and not stripped[0].isdigit()
        and re.fullmatch(r"[A-Za-z/\s.^0-9]*", stripped)
        and all(w.lower() in UNIT_WORDS or w.lower().rstrip("s") in UNIT_WORDS for w in words)
    ):
        return [Token("UNIT", stripped, pos)]
    if re.fullmatch(r"[A-Za-z][A-Za-z\s'\-]*", stripped) and len(stripped) > 1:
        return [Token("WORD", stripped, pos)]
    return _tokenize(inner, depth + 1, pos)


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` (already extracted), ending with an ``EOF`` token."""
    return [*_tokenize(normalize(text), 0, 0), Token("EOF", "", len(text))]


def _tokenize(text: str, depth: int, base: int) -> list[Token]:
    if depth > 20:
        raise MathParseError("\\text nested too deeply")
    text = _DOUBLED_CMD.sub(r"\\", text)
    text = _GROUP_SEP.sub("{,}", text)
    if "\\over" in text:
        text = _rewrite_over(text)
    text = _SPACE_CMDS.sub(_space, text)
    tokens: list[Token] = []
    bracket_depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        pos = base + i
        if c.isspace():
            i += 1
            continue
        # isdecimal, not isdigit: a superscript "²" is a digit to Python but not to \\d
        if c.isdecimal() or (c == "." and i + 1 < n and text[i + 1].isdecimal()):
            m = _NUM_GROUPED.match(text, i)
            if m is None and bracket_depth == 0:
                m = _NUM_COMMA.match(text, i)
            if m is not None:
                digits = re.sub(r"[^\d]", "", m.group(0))
                j = m.end()
                tail = _NUM.match(text, j) if j < n and text[j] == "." else None
                if tail is not None:
                    digits += tail.group(0)
                    j = tail.end()
                tokens.append(Token("NUM", digits, pos))
                i = j
                continue
            m = _NUM.match(text, i)
            if m is None:  # cannot happen for a decimal digit; a parse error, never a crash
                raise MathParseError(f"unexpected character {c!r} at {pos}")
            lit = m.group(0)
            prev = tokens[-1] if tokens else None
            if prev is not None and prev.kind == "CMD" and prev.value in {
                "frac", "dfrac", "tfrac", "cfrac", "binom", "dbinom", "tbinom", "sqrt"
            } and re.fullmatch(r"\d+", lit):  # fmt: skip
                # \frac12 is \frac{1}{2}: a bare argument is one character.
                tokens.append(Token("NUM", lit[0], pos))
                i += 1
                continue
            i += len(lit)
            if lit.endswith(".") and text.startswith("..", i):  # "5..." is 5 then an ellipsis
                tokens.append(Token("NUM", lit[:-1], pos))
                tokens.append(Token("OP", "ellipsis", pos + len(lit)))
                i += 2
                continue
            if lit.endswith("."):  # "5." ends a sentence
                lit = lit[:-1]
            sub = _BASE_SUBSCRIPT.match(text, i) if lit.isdigit() else None
            if sub is not None:  # 204_5, 4210_{7}: a numeral in another base
                tokens.append(Token("BASED", f"{lit}_{sub.group(1) or sub.group(2)}", pos))
                i = sub.end()
                continue
            m = _OVERLINE.match(text, i)
            if m is not None and "e" not in lit.lower():
                # 0.\overline{3} = 1/3: the literal carries the repeating digits after '~'
                lit = (lit if "." in lit else lit + ".") + "~" + m.group(1)
                i = m.end()
            tokens.append(Token("NUM", lit, pos))
            continue
        if c.isalpha() and c.isascii():
            j = i
            while j < n and text[j].isascii() and text[j].isalpha():
                j += 1
            run = text[i:j]
            sub = _subscript(text, j)
            if (sub is not None and len(run) == 1) or (sub is not None and run in GREEK):
                name, j = sub[0], sub[1]
                tokens.append(Token("NAME", f"{run}_{name}", pos))
                i = j
                continue
            if re.fullmatch(r"[A-Za-z]{2,}", run) and j < n and text[j] == "/":
                m = re.match(r"/([A-Za-z]+)", text[j:])
                if m and run.lower() in UNIT_WORDS and m.group(1).lower() in UNIT_WORDS:
                    tokens.append(Token("UNIT", run + m.group(0), pos))
                    i = j + len(m.group(0))
                    continue
            spaced = i == 0 or text[i - 1].isspace()
            tokens.extend(_split_letters(run, pos, spaced=spaced))
            i = j
            continue
        if c == "\\":
            m = _CMD.match(text, i)
            if m is None:  # a backslash ending the text (or before a line break)
                raise MathParseError(f"a lone backslash at {pos}")
            name = m.group(1)
            j = m.end()
            if name in ("{", "}"):
                tokens.append(Token("OP", "\\" + name, pos))
                bracket_depth += 1 if name == "{" else -1
            elif name in ("%", "$", "#", "&", "_"):
                if name == "%":
                    tokens.append(Token("OP", "%", pos))
                elif name == "$" and (not tokens or tokens[-1].kind == "OP"):
                    tokens.append(Token("OP", "currency", pos))  # \$5: a dollar amount
            elif name == "\\":
                tokens.append(Token("OP", "rowsep", pos))
            elif name == "|":
                tokens.append(Token("OP", "|", pos))
            elif name in ("angle", "measuredangle", "triangle"):
                # \angle ABC: a label made of point names, one NAME per letter
                m = re.match(r"\s*([A-Z]{1,4})(?![A-Za-z])", text[j:])
                if m:
                    tokens.extend(Token("NAME", ch, pos) for ch in m.group(1))
                    j += m.end()
            elif name in _ELLIPSIS_CMDS:
                tokens.append(Token("OP", "ellipsis", pos))
            elif name in _CMD_OPS:
                tokens.append(Token("OP", _CMD_OPS[name], pos))
            elif name in _CMD_IGNORED:
                if name in ("left", "right") and j < n and text[j] == ".":
                    j += 1
            elif name in _CONST_WORDS:
                tokens.append(Token("CONST", _CONST_WORDS[name], pos))
            elif name in GREEK:
                tokens.append(Token("NAME", name, pos))
            elif name in FUNCTIONS and name != "sqrt":
                tokens.append(Token("FUNC", name, pos))
            elif name in ("operatorname",) or name in _CMD_TEXT:
                k = j
                while k < n and text[k] == " ":
                    k += 1
                if k < n and text[k] == "{":
                    inner, j = _read_group(text, k)
                    if name == "operatorname":
                        tokens.append(Token("FUNC" if inner in FUNCTIONS else "WORD", inner, pos))
                    else:
                        tokens.extend(_text_tokens(inner, pos, depth))
            elif name in _CMD_PARSED:
                if name in ("begin", "end"):
                    k = j
                    while k < n and text[k] == " ":
                        k += 1
                    if k >= n or text[k] != "{":
                        raise MathParseError(f"\\{name} without an environment")
                    env, j = _read_group(text, k)
                    if name == "begin" and env == "array" and j < n and text[j] == "{":
                        _, j = _read_group(text, j)  # column spec
                    tokens.append(Token("CMD", f"{name}:{env.strip()}", pos))
                elif name == "mathbb":
                    k = j
                    while k < n and text[k] == " ":
                        k += 1
                    if k < n and text[k] == "{":
                        inner, j = _read_group(text, k)
                    else:
                        inner, j = text[k : k + 1], k + 1
                    tokens.append(Token("CONST", "set:" + inner.strip(), pos))
                else:
                    tokens.append(Token("CMD", name, pos))
            else:
                raise MathParseError(f"unsupported LaTeX command \\{name}")
            i = j
            continue
        if text.startswith("...", i):
            tokens.append(Token("OP", "ellipsis", pos))
            i += 3
            continue
        if c == "*" and text.startswith("**", i):
            tokens.append(Token("OP", "^", pos))
            i += 2
            continue
        if text.startswith("+/-", i):
            tokens.append(Token("OP", "pm", pos))
            i += 3
            continue
        two = text[i : i + 2]
        if two in ("<=", ">=", "!=", "=<", "=>"):
            value = {"=<": "<=", "=>": ">="}.get(two, two)
            tokens.append(Token("OP", value, pos))
            i += 2
            continue
        if c in "([":
            bracket_depth += 1
        elif c in ")]":
            bracket_depth -= 1
        if c in "+-*/^_!=<>,;()[]{}|&%':":
            tokens.append(Token("OP", c, pos))
            i += 1
            continue
        if c == "#":
            i += 1
            continue
        raise MathParseError(f"unexpected character {c!r} at {pos}")
    return tokens


def _rewrite_over(text: str) -> str:
    """``{a \\over b}`` as ``{\\frac{a}{b}}`` (TeX's infix fraction), innermost group first."""
    for _ in range(50):
        m = _OVER.search(text)
        if m is None:
            return text
        depth = 0
        start = -1
        for k in range(m.start() - 1, -1, -1):
            ch = text[k]
            if ch == "}" and (k == 0 or text[k - 1] != "\\"):
                depth += 1
            elif ch == "{" and (k == 0 or text[k - 1] != "\\"):
                if depth == 0:
                    start = k
                    break
                depth -= 1
        if start < 0:
            text = "\\frac{" + text[: m.start()] + "}{" + text[m.end() :] + "}"
            continue
        group = read_braced(text, start)
        if group is None:
            raise MathParseError("unbalanced braces around \\over")
        inner, end = group
        cut = m.start() - start - 1
        num, den = inner[:cut], inner[cut + len("\\over") :]
        text = text[:start] + "{\\frac{" + num + "}{" + den + "}}" + text[end:]
    raise MathParseError("too many \\over")


def _subscript(text: str, j: int) -> tuple[str, int] | None:
    """``x_1`` / ``x_{12}`` / ``a_n``: the subscript of a variable name, if any."""
    if j >= len(text) or text[j] != "_":
        return None
    k = j + 1
    if k < len(text) and text[k] == "{":
        inner, end = _read_group(text, k)
        inner = inner.strip()
        if re.fullmatch(r"[A-Za-z0-9]+", inner):
            return inner, end
        return None
    m = re.match(r"[A-Za-z0-9]", text[k:])
    if m:
        return m.group(0), k + 1
    return None
