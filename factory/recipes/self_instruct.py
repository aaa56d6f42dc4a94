"""Self-Instruct on the verifier core: a pool of problems that grows only by verified problems.

The pool starts with the seed problems. Each round makes ``requests_per_round``
generator requests; each shows 8 problems sampled from the pool (6 seeds and 2
generated ones, as in the paper; seeds fill in while few are generated) and asks for
new problems in the same JSON format. Every new problem passes the filters
(valid format, at least ``min_words`` words, no banned keyword, ROUGE-L F <= 0.7
against everything in the pool), then the pipeline's trust rules: it is solved
``samples_per_problem`` times and verified (a math reference needs consensus, a code
reference must pass its tests and its tests must reject wrong programs). Only then
does it join the pool; its verified solutions are the run's rows. Why every dropped
problem was dropped is recorded in the run's rejections.

Resumable like any run: rounds are deterministic given the pool at their start (the
pool is rebuilt from the store; sampling is seeded by round), responses come from
the run's cache, and the ROUGE-L index persists in the run directory.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.errors import FactoryError
from factory.filters.rouge_index import RougeIndex
from factory.llm.types import LLMResponse
from factory.problem import Problem
from factory.recipes.rounds import outcomes, recipe_problems
from factory.run.engine import Run
from factory.sources.llm import LLMSource, problem_example
from factory.spec import Spec

RECIPE = "self_instruct"
INDEX_FILE = "rouge_index.log"
OPTIONS_META = "self_instruct_options"

# Tasks a text-only model cannot do or be checked on (the paper's list, in our words).
DEFAULT_BANNED_KEYWORDS = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "music",
    "flowchart",
    "diagram",
)


class SelfInstructOptions(BaseModel):
    """How the pool grows. ``target`` may grow between runs; the rest is fixed per run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: int = Field(ge=1, description="Verified generated problems to add to the pool.")
    seeds_per_prompt: int = Field(6, ge=0, le=50)
    generated_per_prompt: int = Field(2, ge=0, le=50)
    problems_per_request: int | None = Field(
        None, ge=1, le=50, description="Default: the spec's llm source option."
    )
    requests_per_round: int = Field(4, ge=1, le=256)
    rouge_threshold: float = Field(0.7, gt=0, lt=1)
    min_words: int = Field(3, ge=1)
    banned_keywords: tuple[str, ...] = DEFAULT_BANNED_KEYWORDS
    max_rounds: int | None = Field(None, ge=1, description="Default: 10 + 4 x target.")
    stall_rounds: int = Field(10, ge=1, description="Stop after this many rounds add nothing.")

    def fixed(self) -> dict[str, Any]:
        """The options a resumed run must keep (changing them would change past decisions)."""
        return self.model_dump(
            mode="json", exclude={"target", "max_rounds", "stall_rounds"}
        )


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [re.escape(k.strip().lower()) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")


class SelfInstruct:
    """The Self-Instruct feed of a :class:`~factory.run.engine.Run`."""

    def __init__(self, spec: Spec, seeds: list[Problem], options: SelfInstructOptions) -> None:
        if spec.roles.generator is None:
            raise FactoryError(
                f"spec {spec.name!r}: self-instruct needs roles.generator (the model that "
                "writes new problems)"
            )
        if not seeds:
            raise FactoryError("self-instruct needs at least one seed problem")
        self.spec = spec
        self.seeds = seeds
        self.options = options
        self.source = LLMSource.for_spec(spec)
        llm_options = self.source.options
        self.per_request = options.problems_per_request or llm_options.problems_per_request
        self.topics = list(llm_options.topics)
        self.difficulties = list(llm_options.difficulties)
        self.banned = _keyword_pattern(options.banned_keywords)
        self.max_rounds = options.max_rounds or 10 + 4 * options.target
        self.index: RougeIndex | None = None

    # ---- the pool, as the store has it

    def _load_generated(self, run: Run) -> list[tuple[int, Problem]]:
        """(round, problem) of the verified generated pool members, in the order added."""
        return [
            (recipe["round"], Problem.model_validate(data))
            for recipe, data in recipe_problems(run.store, RECIPE, "done")
        ]

    def _round_problems(self, run: Run, round_: int) -> dict[str, Problem]:
        """Problems a round added before a restart (any state), by id."""
        problems = (
            Problem.model_validate(data)
            for recipe, data in recipe_problems(run.store, RECIPE)
            if recipe["round"] == round_
        )
        return {p.id: p for p in problems}

    # ---- the feed

    async def produce(self, run: Run, queue: asyncio.Queue[Problem | None]) -> None:
        """Run rounds until the target is reached, a cap stops the run, or rounds stall."""
        if self.spec.domain == "math" and run.consensus is None:
            raise FactoryError(
                f"spec {self.spec.name!r}: self-instruct on math needs consensus (k of n solves "
                "must agree with a generated reference before it joins the pool)"
            )
        self._check_options(run)
        self.index = RougeIndex.open(
            run.layout.root / INDEX_FILE, threshold=self.options.rouge_threshold
        )
        try:
            round_ = 0
            while run.store.generation_done(round_):
                round_ += 1
            # The pool as it stood at the start of the first unfinished round. A round cut
            # short by a restart is redone exactly: its problems so far are known (verified
            # ones included, which join the pool when the round completes, and are counted
            # then, once), and the index holds the pool at the round's start plus those.
            members = [(r, p) for r, p in self._load_generated(run) if r < round_]
            earlier = self._round_problems(run, round_)
            self._sync_index(
                [*self.seeds, *(p for r, p in members if r < round_), *earlier.values()]
            )
            while not run.stopping:
                if len(members) >= self.options.target:
                    return
                if round_ >= self.max_rounds:
                    run.request_stop(f"self-instruct: max_rounds={self.max_rounds} reached")
                    return
                if self._stalled(run, round_):
                    run.request_stop(
                        f"self-instruct: {self.options.stall_rounds} rounds in a row added "
                        "nothing to the pool"
                    )
                    return
                generated = [p for r, p in members if r < round_]
                added = await self._round(run, round_, generated, earlier)
                if added is None:
                    return
                members.extend((round_, p) for p in added)
                earlier = {}
                round_ += 1
        finally:
            self.index.close()
            self.index = None

    def _check_options(self, run: Run) -> None:
        fixed = json.dumps(self.options.fixed(), sort_keys=True)
        known = run.store.get_meta(OPTIONS_META)
        if known is None:
            run.store.set_meta(OPTIONS_META, fixed)
        elif known != fixed:
            raise FactoryError(
                f"{run.layout.root} was grown with other self-instruct options "
                f"({known}); only --target and the round limits may change on resume"
            )

    def _stalled(self, run: Run, round_: int) -> bool:
        last = range(round_ - self.options.stall_rounds, round_)
        if last.start < 0:
            return False
        return all(run.store.generation_added(r) == 0 for r in last)

    def _sync_index(self, members: list[Problem]) -> None:
        """Make the persisted index hold exactly ``members`` (it may lag a kill by one write)."""
        assert self.index is not None
        wanted = {p.id: p.statement for p in members}
        for stale in self.index.ids() - wanted.keys():
            self.index.remove(stale)
        for pid, statement in wanted.items():
            if pid not in self.index:
                self.index.add(pid, statement)

    async def _round(
        self, run: Run, round_: int, generated: list[Problem], earlier: dict[str, Problem]
    ) -> list[Problem] | None:
        """One round: the problems it added to the pool, or None when the run must stop."""
        assert self.index is not None
        requests = [
            self._request(round_, j, generated) for j in range(self.options.requests_per_round)
        ]
        responses = await run.call_all(requests, "generator")
        survivors: list[Problem] = []
        for j, response in enumerate(responses):
            survivors.extend(self._filter(run, round_, j, response, earlier))
            if run.stopping:
                return None
        if len(responses) < len(requests):
            return None
        await run.process_many([p for p in survivors if run.store.problem_state(p.id) == "open"])
        if run.stopping:
            return None  # the round is redone on resume; decided problems are not redone
        added = []
        for problem in survivors:
            if run.store.problem_state(problem.id) == "done":
                added.append(problem)
            else:
                self.index.remove(problem.id)  # failed verification: not in the pool
        run.store.mark_generation(round_, len(added))
        return added

    def _request(self, round_: int, j: int, generated: list[Problem]) -> Any:
        rng = random.Random(f"{self.spec.seed}:{RECIPE}:{round_}:{j}")
        n_generated = min(self.options.generated_per_prompt, len(generated))
        shown = rng.sample(generated, n_generated)
        want_seeds = self.options.seeds_per_prompt + self.options.generated_per_prompt
        shown += rng.sample(self.seeds, min(len(self.seeds), want_seeds - n_generated))
        rng.shuffle(shown)
        return self.source.build_request(
            self.spec,
            index=round_ * self.options.requests_per_round + j,
            count=self.per_request,
            examples=[problem_example(p) for p in shown],
            topic=rng.choice(self.topics) if self.topics else "",
            difficulty=rng.choice(self.difficulties) if self.difficulties else "",
        )

    def _filter(
        self,
        run: Run,
        round_: int,
        j: int,
        response: LLMResponse,
        earlier: dict[str, Problem],
    ) -> list[Problem]:
        """The new problems of one answer that pass the filters (added to the run and index)."""
        assert self.index is not None
        where = {"round": round_, "request": j, "request_key": response.request_key}
        problems, rejections = self.source.parse_items(response.text)
        for rejection in rejections:
            item = "all" if rejection.item is None else rejection.item
            run.record_drop(
                f"{RECIPE}-r{round_}-q{j}-i{item}",
                "filter",
                "invalid_format",
                {**where, "item": rejection.item, "detail": rejection.reason,
                 "message": rejection.message},
            )
        if response.truncated and not problems:
            return []
        kept = []
        for problem in problems:
            item = problem.metadata.get("item")
            new = Problem(
                **problem.model_dump(exclude={"id", "source", "metadata"}),
                source=RECIPE,
                metadata={"recipe": {"name": RECIPE, **where, "item": item}},
            )
            if new.id in earlier:  # added by this round before a restart
                kept.append(new)
                continue
            drop = self._why_drop(run, new)
            if drop is not None:
                reason, details = drop
                run.record_drop(
                    f"{RECIPE}-r{round_}-q{j}-i{item}",
                    "filter",
                    reason,
                    {**where, "item": item, "statement": new.statement[:300], **details},
                )
                continue
            if not run.add_problem(new):
                run.request_stop(f"the run holds its limit of {run.n_problems} problems")
                break
            self.index.add(new.id, new.statement)
            kept.append(new)
        return kept

    def _why_drop(self, run: Run, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        assert self.index is not None
        words = len(problem.statement.split())
        if words < self.options.min_words:
            return "too_short", {
                "message": f"{words} word(s); at least {self.options.min_words} needed"
            }
        match = self.banned.search(problem.statement.lower()) if self.banned else None
        if match:
            return "banned_keyword", {"message": f"contains the banned keyword {match.group(1)!r}"}
        if run.store.problem_state(problem.id) is not None:
            return "already_seen", {"message": "the run has seen this exact problem before"}
        near = self.index.nearest_duplicate(problem.statement)
        if near is not None:
            return "near_duplicate", {
                "message": f"ROUGE-L F {near.score:.3f} > {self.options.rouge_threshold} "
                f"against pool problem {near.doc_id}",
                "match": near.doc_id,
                "rouge_l": round(near.score, 4),
            }
        return None

    # ---- the report

    def report(self, run: Run) -> dict[str, Any]:
        """Rounds, pool size and why problems were dropped, per round, from the store."""
        rounds: dict[int, dict[str, Any]] = {}

        def at(r: int) -> dict[str, Any]:
            return rounds.setdefault(
                r, {"round": r, "proposed": 0, "verified": 0, "open": 0, "dropped": {}}
            )

        for record in run.store.rejections():
            if record.get("stage") == "filter" and "round" in record:
                entry = at(record["round"])
                entry["proposed"] += 1
                entry["dropped"][record["reason"]] = entry["dropped"].get(record["reason"], 0) + 1
        for round_, outcome in outcomes(run.store, RECIPE):
            entry = at(round_)
            entry["proposed"] += 1
            if outcome == "done":
                entry["verified"] += 1
            elif outcome == "open":
                entry["open"] += 1
            else:
                entry["dropped"][outcome] = entry["dropped"].get(outcome, 0) + 1
        generated = sum(r["verified"] for r in rounds.values())
        return {
            "name": RECIPE,
            "seeds": len(self.seeds),
            "generated_in_pool": generated,
            "pool_size": len(self.seeds) + generated,
            "target": self.options.target,
            "rounds": [rounds[r] for r in sorted(rounds)],
        }
