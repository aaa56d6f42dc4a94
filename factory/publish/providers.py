"""Who answered: the provider of every LLM response, told truthfully and without local details.

A run records, per response, the client that produced it (``provider``): ``anthropic`` (the
Anthropic API), ``anthropic:URL`` or ``openai:URL`` (a server at a URL the user gave), or
``replay:FILE`` (responses recorded earlier, served from a file; no model is called). What
is published must say which of these answered, must not pretend a replayed or scripted
response was a paid model call, and must not leak local file paths or endpoint URLs.

A recording says what made it in its header line: ``{"_recorded": true, "responses":
"scripted", ...}`` marks responses written by a script (e.g. the offline quickstart's);
otherwise the recorded lines name the providers that originally answered.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlsplit

from factory.publish.run_reader import RunData, SpendRecord

LIVE = "live"
REPLAYED = "replayed"
SCRIPTED = "scripted"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Provider:
    """A response's provider as it may be published.

    ``kind``: ``live`` (a model endpoint was called), ``replayed`` (served from a recording
    of earlier calls), ``scripted`` (served from a recording of scripted, non-model
    responses) or ``unknown``. ``name`` is the public name (no paths, no URLs); ``paid`` is
    whether a call through it costs money; ``description`` is one sentence for the card.
    """

    kind: str
    name: str
    paid: bool
    description: str


def _is_local_host(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


ANTHROPIC_API_HOST = "api.anthropic.com"


def _endpoint(kind: str, url: str) -> Provider:
    batch = kind == "anthropic-batch"
    family = "an Anthropic" if kind.startswith("anthropic") else "an OpenAI"
    kind = "anthropic" if batch else kind
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    if host == ANTHROPIC_API_HOST:
        if batch:
            return Provider(
                LIVE, "anthropic (batches)", True,
                "the Anthropic Message Batches API (live model calls, paid)",
            )  # fmt: skip
        return Provider(LIVE, "anthropic", True, "the Anthropic API (live model calls, paid)")
    if _is_local_host(host):
        return Provider(
            LIVE,
            f"{kind}-compatible (local server)",
            False,
            f"{family}-compatible server on the run's own machine or network (its URL is "
            "not published); factory cannot tell whether a model or a script answered there, "
            "and no call to it was paid",
        )
    return Provider(
        LIVE,
        f"{kind}-compatible (remote server)",
        True,
        f"{family}-compatible server at a URL the publisher gave (not published); cost is "
        "as priced for the run",
    )


def recording_header(path: Path) -> dict | None:
    """The header of a recording file, or None when it cannot be read."""
    try:
        with path.open(encoding="utf-8") as f:
            header = json.loads(f.readline())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return header if isinstance(header, dict) and header.get("_recorded") is True else None


def recorded_providers(path: Path) -> list[str]:
    """The public names of the providers that answered the calls a recording holds."""
    names: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
    except (OSError, UnicodeDecodeError):
        return []
    for line in lines:
        try:
            provider = json.loads(line)["response"]["provider"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        names.add(describe(str(provider), search=()).name)
    return sorted(names)


def _find(file: str, search: tuple[Path, ...]) -> Path | None:
    candidate = Path(file)
    places = [candidate] if candidate.is_absolute() else [base / candidate for base in search]
    return next((p for p in places if p.is_file()), None)


def _replay(file: str, search: tuple[Path, ...]) -> Provider:
    name = PurePath(file).name
    path = _find(file, search)
    header = recording_header(path) if path else None
    if header is None:
        return Provider(
            REPLAYED,
            f"replay of {name}",
            False,
            f"replayed from the recording `{name}` (not available when publishing, so what "
            "originally produced these responses is unknown); no model was called",
        )
    if str(header.get("responses", "")).lower() == SCRIPTED or str(
        header.get("note", "")
    ).upper().startswith("SCRIPTED"):
        return Provider(
            SCRIPTED,
            f"scripted (replay of {name})",
            False,
            f"scripted responses replayed from the recording `{name}`: written by a script, "
            "not by any model; no model was called and nothing was paid",
        )
    originals = recorded_providers(path) if path else []
    of = ", ".join(originals) or "an unnamed provider"
    return Provider(
        REPLAYED,
        f"replay of {name}",
        False,
        f"replayed from the recording `{name}` of earlier calls to {of}; no model was called "
        "for this run and nothing was paid",
    )


def describe(provider: str | None, *, search: tuple[Path, ...] | None = None) -> Provider:
    """The publishable description of a recorded ``provider`` string.

    ``search`` is where a relative recording path is looked for (the run was started
    from one of them: the current directory, the run directory's parents).
    """
    search = (Path.cwd(),) if search is None else search
    if not provider:
        return Provider(UNKNOWN, "unknown", False, "not recorded by the run")
    kind, sep, rest = provider.partition(":")
    kind = kind.lower()
    if kind == "replay" and rest:
        return _replay(rest, search)
    if kind == "anthropic" and not sep:
        return Provider(LIVE, "anthropic", True, "the Anthropic API (live model calls, paid)")
    if kind in ("anthropic", "anthropic-batch", "openai") and rest:
        return _endpoint(kind, rest)
    return Provider(UNKNOWN, kind or "unknown", False, f"a client factory does not know ({kind})")


class RunProviders:
    """The providers of one run's responses and calls, each described once."""

    def __init__(self, run: RunData) -> None:
        self.run = run
        self._by_key = run.provider_of_request()
        self._described: dict[str, Provider] = {}

    def of(self, raw: str | None) -> Provider:
        """The publishable provider of a recorded provider string."""
        key = raw or ""
        if key not in self._described:
            self._described[key] = describe(raw, search=self.run.started_from)
        return self._described[key]

    def of_spend(self, spend: SpendRecord) -> Provider:
        """Who answered one recorded LLM call: the provider its response recorded, else the
        client the run was started with (calls without a candidate, e.g. problem writing)."""
        raw = self._by_key.get(spend.request_key) or _client_provider(self.run.invocation)
        return self.of(raw)

    def of_row(self, row: dict[str, Any]) -> Provider:
        """Who wrote a kept row's response."""
        return self.of((row.get("provenance") or {}).get("provider"))

    def responses(self, rows: list[dict[str, Any]]) -> list[tuple[Provider, int]]:
        """(provider, responses) over ``rows``, most responses first."""
        counts = Counter(self.of_row(r) for r in rows)
        return sorted(counts.items(), key=lambda pn: (-pn[1], pn[0].name))


def _client_provider(invocation: dict[str, Any]) -> str | None:
    llm = invocation.get("llm")
    if not llm:
        return None
    if invocation.get("batch") and str(llm) == "anthropic":
        return f"anthropic-batch:https://{ANTHROPIC_API_HOST}"
    return str(llm)


def responses_sentence(providers: list[tuple[Provider, int]], unit: str = "responses") -> str:
    """One sentence for a card: who wrote how many of the published responses."""
    if not providers:
        return f"No {unit} were published."
    parts = [f"{n} {unit}: {p.description}" for p, n in providers]
    return "Who wrote them: " + "; ".join(parts) + "."
