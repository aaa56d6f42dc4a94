"""The run: spec -> problems -> solver samples -> verdicts -> kept rows, streaming and resumable.

Stages overlap: a producer task adds problems (from a direct source, or from
generator calls) while consumer tasks solve and verify earlier ones, so the LLM
and the verifiers (and the Docker sandbox) work at the same time.

Everything a decision needs is committed to the state store before it counts:
each verified candidate as it completes, and each problem's kept rows together
with its rejections in one transaction. LLM responses are cached by request
hash in the run directory, so after a kill -9 a resumed run redoes only what was
in flight, pays for no completed call twice, and ends with the same rows as an
uninterrupted run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel

from factory.errors import FactoryError, InputFileError, RunDirError
from factory.llm.errors import LLMError
from factory.llm.pricing import PriceTable
from factory.llm.types import LLMClient, LLMRequest, LLMResponse
from factory.problem import Problem
from factory.run.budget import BudgetGuard
from factory.run.disk_full import disk_full_error, is_disk_full
from factory.run.integrity import open_store
from factory.run.layout import ROWS_PER_SHARD, RunLayout
from factory.run.lock import RunLock
from factory.run.reference_check import check_generated_code_reference
from factory.run.rows import build_row, rejection_record, row_id
from factory.run.solver import solver_request
from factory.run.store import StateStore
from factory.spec import Consensus, Spec
from verifiers import Reason, Verdict, Verifier, VerifierError, get_verifier
from verifiers.code import extract_code

log = logging.getLogger(__name__)

TOP_UP_FACTOR = 2  # generator requests, at most, as a multiple of those --n needs
CAPS_META = "budget_caps"  # the caps given on the command line, which bind the run


class RunConfig(BaseModel):
    """How to run a spec (what the CLI flags set)."""

    out: Path
    n_problems: int
    resume: bool = False
    max_usd: float | None = None
    max_tokens: int | None = None
    concurrency: int = 8
    verify_workers: int = 8


class RunSummary(BaseModel):
    """What a run did: the funnel, spend and why it stopped (if it stopped early)."""

    run_dir: str
    spec_name: str
    spec_hash: str
    problems: dict[str, int]
    candidates: dict[str, int]
    kept_rows: int
    rejections: dict[str, int]
    llm_calls: int
    tokens: int
    cost_usd: float
    usd_per_kept_row: float | None
    stopped: str | None
    shortfall: str | None = None
    """Why the run holds fewer problems than asked for, when it does (it did not stop early)."""
    caps: dict[str, float | None] = {}
    """The budget caps that bound the run (``max_usd``, ``max_tokens``; None: no cap)."""
    failed: bool = False
    elapsed_s: float
    recipe: dict[str, Any] | None = None
    """What a recipe (Self-Instruct, Evol-Instruct) reports of its own: rounds, survivors."""


class Feed(Protocol):
    """A producer of problems that replaces the spec's source (what recipes implement)."""

    async def produce(self, run: Run, queue: asyncio.Queue[Problem | None]) -> None:
        """Add problems to the run (``run.add_problem``) and queue or process them."""
        ...

    def report(self, run: Run) -> dict[str, Any]:
        """The recipe's part of the run summary, computed from the run's store."""
        ...


@dataclass
class Progress:
    """Live counters the CLI renders; the engine only increments them."""

    problems_added: int = 0
    problems_done: int = 0
    problems_dropped: int = 0
    candidates_solved: int = 0
    candidates_verified: int = 0
    kept: int = 0
    cache_hits: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    spent_usd: float = 0.0
    spent_tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    calls: dict[int, float] = field(default_factory=dict)
    """LLM calls in flight: when each started (monotonic), by an id of the call."""

    @property
    def calls_in_flight(self) -> int:
        return len(self.calls)

    def oldest_call_s(self) -> float:
        """How long the oldest call in flight has been waiting (0 when none is)."""
        return time.monotonic() - min(self.calls.values()) if self.calls else 0.0


class Run:
    """One execution of a spec into a run directory. ``await run.execute()``."""

    def __init__(
        self,
        spec: Spec,
        config: RunConfig,
        client: LLMClient,
        *,
        prices: PriceTable | None = None,
        verifiers: dict[str, Verifier] | None = None,
        consensus: Consensus | None = None,
    ) -> None:
        self.spec = spec
        # A recipe may ask for consensus on a spec whose own source needs none (ground truth).
        self.consensus = consensus if consensus is not None else spec.consensus
        self.config = config
        self.client = client
        self.layout = RunLayout(config.out)
        self.progress = Progress()
        caps = spec.budget
        self.budget = BudgetGuard(
            prices=prices or PriceTable(),
            max_usd=config.max_usd if config.max_usd is not None else caps.max_usd,
            max_tokens=config.max_tokens if config.max_tokens is not None else caps.max_tokens,
        )
        self.n_problems = min(config.n_problems, caps.max_problems or config.n_problems)
        # Built on first use per domain: a mixed spec may never meet one of its domains.
        self._verifiers: dict[str, Verifier] = dict(verifiers or {})
        self._stop_reason: str | None = None
        self._failed = False
        self._store: StateStore | None = None
        self._lock: RunLock | None = None
        self._disk_full: BaseException | None = None
        self._shortfall: str | None = None
        self._call_ids = itertools.count()
        self._executor = ThreadPoolExecutor(
            max_workers=config.verify_workers, thread_name_prefix="verify"
        )
        self._run_started_at = ""

    # -- control ---------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """Finish in-flight work, start nothing new (what the first Ctrl-C does)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def fail(self, reason: str) -> None:
        """Stop because something outside the candidates broke (the run exits non-zero)."""
        self._failed = True
        self.request_stop(reason)

    @property
    def stopping(self) -> bool:
        return self._stop_reason is not None or self.budget.stopped_by is not None

    @property
    def store(self) -> StateStore:
        assert self._store is not None, "the run is not open"
        return self._store

    # -- the run ---------------------------------------------------------------------
    async def execute(self, feed: Feed | None = None) -> RunSummary:
        """Run (or resume) to completion, a budget cap, or a stop request.

        ``feed`` replaces the spec's source as the producer of problems (a recipe such as
        Self-Instruct); it may queue problems or process them itself with :meth:`process_many`.
        """
        if self._store is None:
            self.open()
        try:
            try:
                await self._work(feed)
            finally:
                summary = self._finish(feed)
        except InputFileError as exc:
            raise InputFileError(
                f"{exc}; the run is kept: once the file is fixed, `factory resume "
                f"{self.layout.root}` continues it"
            ) from None
        except Exception as exc:
            if is_disk_full(exc):
                raise disk_full_error(self.layout.root, exc) from None
            raise
        finally:
            self._close()
        if self._disk_full is not None:
            raise disk_full_error(self.layout.root, self._disk_full)
        return summary

    async def _work(self, feed: Feed | None) -> None:
        queue: asyncio.Queue[Problem | None] = asyncio.Queue(maxsize=4 * self.config.concurrency)
        produce = self._produce(queue) if feed is None else feed.produce(self, queue)
        producer = asyncio.create_task(produce)
        consumers = [
            asyncio.create_task(self._consume(queue)) for _ in range(self.config.concurrency)
        ]
        try:
            await producer
        finally:
            for _ in consumers:
                await queue.put(None)
            await asyncio.gather(*consumers)

    def refresh_progress(self) -> None:
        """Bring the counters the store knows better up to date: rejections by reason, as the
        summary counts them (a dropped problem's failed samples included)."""
        if self._store is not None:
            self.progress.rejected = Counter(self._store.rejection_counts())

    def _finish(self, feed: Feed | None) -> RunSummary:
        """Rebuild the shards, then write and return the summary."""
        try:
            self.refresh_progress()
            self.materialise()
            summary = self.summary()
            if feed is not None:
                summary = summary.model_copy(update={"recipe": feed.report(self)})
            tmp = self.layout.summary.with_suffix(".tmp")
            tmp.write_text(summary.model_dump_json(indent=2) + "\n")
            tmp.replace(self.layout.summary)
        except Exception as exc:
            if is_disk_full(exc) and self._disk_full is not None:
                # The run already stopped on a full disk; the store holds everything, and
                # the next session rebuilds the shards and the summary.
                return self.summary()
            raise
        return summary

    def preflight(self) -> None:
        """Check every verifier the spec names can work, before any LLM call is paid for.

        A verifier may offer ``preflight()`` (the code verifier starts its sandbox there);
        its VerifierError becomes one FactoryError line naming the verifier and the fix.
        """
        domains = list(self.spec.verifiers) if self.spec.verifiers else [self.spec.domain]
        for domain in domains:
            verifier = self.verifier_for(domain)
            check = getattr(verifier, "preflight", None)
            if not callable(check):
                continue
            try:
                check()
            except VerifierError as exc:
                raise FactoryError(f"verifier {verifier.name!r} ({domain}): {exc}") from None

    def open(self) -> None:
        """Lock the run directory, check it and open its state (``execute`` does it when
        needed). Raises RunDirError for a live, damaged or foreign run directory."""
        # The lock first: a second process on a live run is refused before it checks, builds
        # or pays for anything.
        self._lock = RunLock(self.layout.root)
        self._lock.acquire()
        try:
            self._open_locked()
        except BaseException:
            self._close()
            raise

    def _open_locked(self) -> None:
        layout = self.layout
        spec_hash = self.spec.spec_hash()
        manifest = layout.read_manifest() if layout.manifest.exists() else None
        if manifest is not None:
            if manifest.get("spec_hash") != spec_hash:
                raise RunDirError(
                    f"{layout.root} holds a run of another spec ({manifest.get('spec_name')!r}, "
                    f"hash {manifest.get('spec_hash')}; the spec given has hash {spec_hash}): "
                    f"choose another --out, or continue that run with `factory resume "
                    f"{layout.root}`"
                )
            if not self.config.resume:
                raise RunDirError(
                    f"{layout.root} already holds a run of this spec; add --resume to continue "
                    "it, or choose another --out"
                )
        self.preflight()
        layout.write_manifest(spec_name=self.spec.name, spec_hash=spec_hash)
        if not layout.spec.exists():
            layout.spec.write_text(
                yaml.safe_dump(self.spec.canonical(), sort_keys=True, allow_unicode=True)
            )
        self._store = open_store(layout, layout.read_manifest(), new_run=manifest is None)
        started = self.store.get_meta("run_started_at")
        if started is None:
            started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.store.set_meta("run_started_at", started)
        self._run_started_at = started
        self._bind_caps()
        spend = self.store.spend()
        self.budget.spent_usd, self.budget.spent_tokens = spend.cost_usd, spend.tokens
        self.progress.problems_added = self.store.problem_count()
        self.progress.problems_done = self.store.problem_count("done")
        self.progress.problems_dropped = self.store.problem_count("dropped")
        self.progress.kept = self.store.row_count()
        self.refresh_progress()

    def _bind_caps(self) -> None:
        """Make the budget caps given for this run bind it until the user changes them.

        A cap given now (``--max-usd``, ``--max-tokens``) is saved in the store; one not
        given is the one saved earlier, else the spec's. So `factory resume RUN` keeps the
        caps, and `factory resume RUN --max-usd X` raises (or lowers) one.
        """
        known = json.loads(self.store.get_meta(CAPS_META) or "{}")
        given = {"max_usd": self.config.max_usd, "max_tokens": self.config.max_tokens}
        caps = {**known, **{k: v for k, v in given.items() if v is not None}}
        if caps != known:
            self.store.set_meta(CAPS_META, json.dumps(caps, sort_keys=True))
        spec_caps = self.spec.budget
        self.budget.max_usd = caps.get("max_usd", spec_caps.max_usd)
        self.budget.max_tokens = caps.get("max_tokens", spec_caps.max_tokens)

    def _close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- LLM calls -------------------------------------------------------------------
    async def call(self, request: LLMRequest, role: str) -> LLMResponse | None:
        """One LLM call under the budget; None when a cap forbids it (the run then stops).

        Spend is recorded per request hash, so a call answered from the run's cache after a
        restart is counted once.
        """
        reservation = await self.budget.acquire(request)
        if reservation is None:
            return None
        budget = self.budget
        if self._stop_reason is not None:  # stopped while this call waited for budget room
            budget.settle(reservation, spent_usd=budget.spent_usd, spent_tokens=budget.spent_tokens)
            return None
        spent: tuple[float, int] | None = None
        call_id = next(self._call_ids)
        self.progress.calls[call_id] = time.monotonic()
        try:
            response = await self.client.complete(request)
            # A response answered from this run's cache was paid for by this run before a
            # restart.
            cost = response.cost_usd
            if response.from_cache:
                self.progress.cache_hits += 1
                if response.original_cost_usd is not None:
                    cost = response.original_cost_usd
            usage = response.usage
            prompt_tokens = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
            self.store.record_spend(
                response.request_key,
                role=role,
                model=response.model,
                input_tokens=prompt_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=cost,
            )
            spend = self.store.spend()
            spent = (spend.cost_usd, spend.tokens)
        finally:
            self.progress.calls.pop(call_id, None)
            if spent is None:  # the call failed (or was cancelled): the totals stay as they are
                spent = (budget.spent_usd, budget.spent_tokens)
            budget.settle(reservation, spent_usd=spent[0], spent_tokens=spent[1])
        self.progress.spent_usd, self.progress.spent_tokens = spent
        return response

    async def call_all(self, requests: list[LLMRequest], role: str) -> list[LLMResponse]:
        """Make ``requests`` concurrently; their responses in request order, up to the first
        that did not come: a budget cap or an LLM error (which fails the run). A shorter list
        means the run is stopping; the calls that did complete are cached for resume."""
        results = await asyncio.gather(
            *(self.call(r, role) for r in requests), return_exceptions=True
        )
        responses: list[LLMResponse] = []
        for result in results:
            if isinstance(result, LLMError):
                self.fail(f"LLM error: {result}")
                break
            if isinstance(result, BaseException):
                raise result
            if result is None:  # a budget cap
                break
            responses.append(result)
        return responses

    # -- producing problems ----------------------------------------------------------
    async def _produce(self, queue: asyncio.Queue[Problem | None]) -> None:
        for _, data in self.store.problems("open"):
            if self.stopping:
                return
            await queue.put(Problem.model_validate(data))
        source = self.spec.build_source()
        if hasattr(source, "build_requests"):
            await self._produce_generated(source, queue)
        else:
            await self._produce_direct(source, queue)

    def add_problem(self, problem: Problem) -> bool:
        """Record a new open problem; False when it is known already or the run is full."""
        if self.store.problem_count() >= self.n_problems:
            return False
        added = self.store.add_problem(problem.id, problem.model_dump(mode="json"))
        if added:
            self.progress.problems_added += 1
        return added

    async def _produce_direct(self, source: Any, queue: asyncio.Queue[Problem | None]) -> None:
        # A direct source is deterministic, so on resume it yields the known problems first;
        # they are already queued (open) or decided, and `add_problem` refuses them as duplicates.
        try:
            for problem in source.problems(self.n_problems, self.spec.seed):
                if self.stopping or self.store.problem_count() >= self.n_problems:
                    return
                if self.add_problem(problem):
                    await queue.put(problem)
            self._note_shortfall("the source holds no more usable problems")
        finally:
            self._record_skipped_rows(source)

    def _record_skipped_rows(self, source: Any) -> None:
        """Input rows a source left out (``on_error: skip``) are rejections with their reason."""
        where = getattr(getattr(source, "options", None), "path", "")
        for skipped in getattr(source, "skipped", []):
            key = f"input-{where}-{skipped.row}"
            self.record_drop(
                key,
                "source",
                "bad_input_row",
                {
                    "file": where,
                    "row": skipped.row,
                    "field": skipped.field,
                    "message": skipped.reason,
                },
            )

    async def _produce_generated(self, source: Any, queue: asyncio.Queue[Problem | None]) -> None:
        requests = source.build_requests(self.spec, self.n_problems, self.spec.seed)
        if not await self._generate(source, list(enumerate(requests)), queue):
            return
        # Top up: the generator's answers may hold fewer usable problems than were asked for
        # (malformed items, duplicates). Request i of a longer list is the same whatever its
        # length, so the extra requests, like the first ones, are the same on every resume.
        per = max(1, getattr(getattr(source, "options", None), "problems_per_request", 1))
        extra = range(len(requests), TOP_UP_FACTOR * len(requests))
        window = max(1, self.config.concurrency)
        for start in range(extra.start, extra.stop, window):
            if self.stopping or self.store.problem_count() >= self.n_problems:
                return
            indices = range(start, min(start + window, extra.stop))
            longer = source.build_requests(self.spec, (indices.stop) * per, self.spec.seed)
            if not await self._generate(source, [(i, longer[i]) for i in indices], queue):
                return
        self._note_shortfall(
            f"the generator's answers held too few usable problems, even with {TOP_UP_FACTOR}x "
            "the requests (see the rejections by reason)"
        )

    async def _generate(
        self, source: Any, requests: list[tuple[int, Any]], queue: asyncio.Queue[Problem | None]
    ) -> bool:
        """Make generator ``requests`` (index, request) not made before, a window at a time;
        False when the run is stopping."""
        window = max(1, self.config.concurrency)
        pending = [(i, r) for i, r in requests if not self.store.generation_done(i)]
        for start in range(0, len(pending), window):
            if self.stopping:
                return False
            if self.store.problem_count() >= self.n_problems:
                return True
            chunk = pending[start : start + window]
            responses = await self.call_all([req for _, req in chunk], "generator")
            # Problems are added in request order whatever order the calls finished in,
            # so a resumed run numbers them exactly as an uninterrupted one.
            for (index, _), response in zip(chunk, responses, strict=False):
                await self._accept_generated(source, index, response, queue)
            if len(responses) < len(chunk):
                return False
        return not self.stopping

    def _note_shortfall(self, why: str) -> None:
        """Say in the summary that the run holds fewer problems than --n asked for, and why."""
        have = self.store.problem_count()
        if have < self.n_problems and not self.stopping:
            self._shortfall = f"{have} of {self.n_problems} problems: {why}"

    async def _accept_generated(
        self, source: Any, index: int, response: LLMResponse, queue: asyncio.Queue[Problem | None]
    ) -> None:
        parsed = source.parse_response(response.text)
        if not isinstance(parsed, list):
            self._record_generation_failure(index, parsed.reason, parsed.message)
            return
        added = 0
        for problem in parsed:
            if self.add_problem(problem):
                added += 1
                await queue.put(problem)
        self.store.mark_generation(index, added)

    def record_drop(self, key: str, stage: str, reason: str, record: dict[str, Any]) -> None:
        """Record why something that never became a run problem was dropped (with counters)."""
        self.progress.rejected[reason] += 1
        record = {"stage": stage, "reason": reason, **record}
        self.store.record_rejection(key, stage, reason, record)

    def _record_generation_failure(self, index: int, reason: str, message: str) -> None:
        self.record_drop(
            f"generator-{index}",
            "generate",
            reason,
            {"request_index": index, "message": message},
        )
        self.store.mark_generation(index, 0, state="rejected")

    # -- solving and verifying -------------------------------------------------------
    async def _consume(self, queue: asyncio.Queue[Problem | None]) -> None:
        while True:
            problem = await queue.get()
            if problem is None:
                return
            if self.stopping:
                continue
            # Keep draining the queue after an internal error, so the producer never blocks
            # on a queue nobody reads.
            await self._process_guarded(problem)

    async def _process_guarded(self, problem: Problem) -> None:
        """Process one problem; a bug or a misbehaving plugin stops the run (problem stays open)."""
        try:
            await self._process(problem)
        except Exception as exc:
            if is_disk_full(exc):
                self._disk_full = self._disk_full or exc
                self.fail(f"disk full: {exc}")
                return
            log.exception("internal error on problem %s", problem.id)
            self.fail(f"internal error on problem {problem.id}: {type(exc).__name__}: {exc}")

    def verifier_for(self, domain: str) -> Verifier:
        """The verifier the spec names for ``domain``."""
        if domain not in self._verifiers:
            chosen = self.spec.verifier_for(domain)
            self._verifiers[domain] = get_verifier(chosen.name, **chosen.options)
        return self._verifiers[domain]

    async def _verify(self, problem: Problem, candidate: str) -> Verdict:
        verifier = self.verifier_for(problem.domain)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, verifier.verify, problem.verifier_problem(), candidate
        )

    async def _judge(self, problem: Problem, text: str) -> Verdict:
        """Verify one solver answer; code answers must come as a fenced code block."""
        candidate: str | None = text
        if problem.domain == "code":
            candidate = extract_code(text)
            if candidate is None:
                verifier = self.verifier_for(problem.domain)
                return Verdict.fail(
                    Reason.NO_ANSWER, "no ```python code block in the response"
                ).stamped(verifier=verifier.name, version=verifier.version)
        verdict = await self._verify(problem, candidate)
        if verdict.reason is Reason.INFRA_ERROR:  # one retry: infra trouble is not final
            verdict = await self._verify(problem, candidate)
        if verdict.reason is Reason.INFRA_ERROR:
            # Still broken: the verifier's machinery is down, and every other candidate would
            # fail the same way. Stop; the problem stays open, so resume verifies it later.
            self.fail(f"verifier infrastructure error: {verdict.message}")
        return verdict

    async def process_many(self, problems: list[Problem]) -> None:
        """Solve, verify and decide ``problems`` concurrently (at most ``concurrency`` at once).

        For feeds that need each problem's decision before they go on; an internal error stops
        the run as it does for queued problems.
        """
        gate = asyncio.Semaphore(max(1, self.config.concurrency))

        async def one(problem: Problem) -> None:
            async with gate:
                if not self.stopping:
                    await self._process_guarded(problem)

        await asyncio.gather(*(one(p) for p in problems))

    async def _process(self, problem: Problem) -> None:
        if problem.domain == "code" and problem.trust == "generated":
            drop = await check_generated_code_reference(problem, self._verify)
            if drop is not None and drop.reason == "reference_unverifiable":
                self.fail(f"verifier infrastructure error: {drop.record['message']}")
                return
            if drop is not None:
                self.store.reject_problem(problem.id, "reference", drop.reason, drop.record)
                self.progress.problems_dropped += 1
                self.progress.rejected[drop.reason] += 1
                return
        known = self.store.candidates(problem.id)
        samples = await asyncio.gather(
            *(self._sample(problem, i, known.get(i)) for i in range(self.spec.samples_per_problem))
        )
        if any(s is None for s in samples):
            return  # stopped part-way (budget or Ctrl-C): the problem stays open for --resume
        self._decide(problem, [s for s in samples if s is not None])

    async def _sample(
        self, problem: Problem, index: int, known: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if known is not None:
            return known
        if self.stopping:
            return None
        request = solver_request(self.spec, problem, index)
        try:
            response = await self.call(request, "solver")
        except LLMError as exc:
            # Retries are spent (or the key, the balance or the recording is wrong): going on
            # would only fail every other call too. Stop; the problem stays open for resume.
            self.fail(f"LLM error: {exc}")
            return None
        if response is None:
            return None
        self.progress.candidates_solved += 1
        if response.truncated:
            verdict = Verdict.fail(
                Reason.NO_ANSWER,
                f"response truncated at max_tokens={request.max_tokens}",
                details={"stop_reason": response.stop_reason},
            )
        else:
            verdict = await self._judge(problem, response.text)
            if verdict.reason is Reason.INFRA_ERROR:
                return None  # not a judgement: the problem stays open for resume
        self.progress.candidates_verified += 1
        return self._candidate(problem, index, request, response, verdict)

    def _candidate(
        self,
        problem: Problem,
        index: int,
        request: LLMRequest,
        response: LLMResponse,
        verdict: Verdict,
    ) -> dict[str, Any]:
        """Record a verified sample in the store (so a resumed run need not redo it)."""
        record = {
            "sample_index": index,
            "request": {
                "model": request.model,
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
                "prompt": request.messages[-1].content,
                "prompt_version": request.prompt_version,
                "key": request.cache_key(),
            },
            "response": {
                "text": response.text,
                "model": response.model,
                "stop_reason": response.stop_reason,
                "usage": response.usage.model_dump(),
                "cost_usd": response.original_cost_usd
                if response.from_cache and response.original_cost_usd is not None
                else response.cost_usd,
                "provider": response.provider,
            },
            "verdict": verdict.model_dump(mode="json"),
        }
        self.store.save_candidate(problem.id, index, record)
        return record

    def _decide(self, problem: Problem, samples: list[dict[str, Any]]) -> None:
        verdicts = [Verdict.model_validate(s["verdict"]) for s in samples]
        trust = problem.trust
        consensus = self.consensus
        if consensus is not None and problem.trust == "generated" and problem.domain == "math":
            agreeing = sum(v.passed for v in verdicts[: consensus.n])
            if agreeing < consensus.k:
                rejections = [
                    (s["sample_index"], "verify", v.reason.value, rejection_record(problem, s, v))
                    for s, v in zip(samples, verdicts, strict=True)
                    if not v.passed
                ]
                rejections.append(
                    (
                        -1,
                        "consensus",
                        "no_consensus",
                        {
                            "problem_id": problem.id,
                            "stage": "consensus",
                            "reason": "no_consensus",
                            "message": f"{agreeing} of {consensus.n} solves agreed with the "
                            f"generated reference; {consensus.k} needed",
                        },
                    )
                )
                self.store.decide(
                    problem.id, state="dropped", rows=(), rejections=rejections, note="no_consensus"
                )
                self.progress.problems_dropped += 1
                self.progress.rejected["no_consensus"] += 1
                return
            trust = "consensus"
        rows = []
        rejections = []
        for sample, verdict in zip(samples, verdicts, strict=True):
            if verdict.passed:
                row = build_row(
                    self.spec,
                    problem,
                    sample,
                    verdict,
                    trust=trust,
                    run_started_at=self._run_started_at,
                )
                rows.append(
                    (row_id(problem.id, sample["sample_index"]), sample["sample_index"], row)
                )
            else:
                rejections.append(
                    (
                        sample["sample_index"],
                        "verify",
                        verdict.reason.value,
                        rejection_record(problem, sample, verdict),
                    )
                )
                self.progress.rejected[verdict.reason.value] += 1
        self.store.decide(problem.id, state="done", rows=rows, rejections=rejections)
        self.progress.problems_done += 1
        self.progress.kept += len(rows)
        self._append_rows([r for _, _, r in rows])

    # -- outputs ---------------------------------------------------------------------
    def _append_rows(self, rows: list[dict[str, Any]]) -> None:
        """Stream kept rows to a live file; the shards proper are rebuilt from the store."""
        if not rows:
            return
        self.layout.rows_dir.mkdir(parents=True, exist_ok=True)
        with (self.layout.rows_dir / "live.jsonl").open("a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")

    def materialise(self) -> None:
        """Rewrite the rows shards and the rejection log from the store, atomically."""
        layout = self.layout
        layout.rows_dir.mkdir(parents=True, exist_ok=True)
        for old in layout.rows_dir.glob("shard-*.jsonl"):
            old.unlink()
        shard_index, count, fh = 0, 0, None
        for row in self.store.kept_rows():
            if fh is None or count == ROWS_PER_SHARD:
                if fh is not None:
                    fh.close()
                    shard_index += 1
                fh = open(layout.shard(shard_index).with_suffix(".tmp"), "w", encoding="utf-8")  # noqa: SIM115
                count = 0
            fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
        if fh is not None:
            fh.close()
        for tmp in layout.rows_dir.glob("shard-*.tmp"):
            tmp.replace(tmp.with_suffix(".jsonl"))
        (layout.rows_dir / "live.jsonl").unlink(missing_ok=True)
        tmp = layout.rejections.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for record in self.store.rejections():
                out.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        os.replace(tmp, layout.rejections)

    def summary(self) -> RunSummary:
        """The funnel and spend as they stand in the store."""
        store = self.store
        spend = store.spend()
        kept = store.row_count()
        return RunSummary(
            run_dir=str(self.layout.root),
            spec_name=self.spec.name,
            spec_hash=self.spec.spec_hash(),
            problems={
                "total": store.problem_count(),
                "done": store.problem_count("done"),
                "dropped": store.problem_count("dropped"),
                "open": store.problem_count("open"),
            },
            candidates={
                "solved_this_session": self.progress.candidates_solved,
                "verified_this_session": self.progress.candidates_verified,
                "cache_hits_this_session": self.progress.cache_hits,
            },
            kept_rows=kept,
            rejections=store.rejection_counts(),
            llm_calls=spend.calls,
            tokens=spend.tokens,
            cost_usd=round(spend.cost_usd, 6),
            usd_per_kept_row=round(spend.cost_usd / kept, 6) if kept else None,
            stopped=self._stop_reason or self.budget.stopped_by,
            caps={"max_usd": self.budget.max_usd, "max_tokens": self.budget.max_tokens},
            shortfall=self._shortfall,
            failed=self._failed,
            elapsed_s=round(time.monotonic() - self.progress.started, 2),
        )
