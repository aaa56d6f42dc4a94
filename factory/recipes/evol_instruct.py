"""Evol-Instruct on the verifier core: rewrite verified problems into harder (or new) ones.

Each round takes the population (round 1: the input problems; later: the previous
round's survivors) and asks the generator to evolve every member once, with one
operator chosen by a seeded draw: five in-depth operators (add a constraint, deepen,
concretize, add reasoning steps, complicate the input) and one in-breadth operator
(a new problem on a related topic). The evolved problem carries a new reference
written by the model, so it is solved and verified again under the pipeline's trust
rules. An evolution is eliminated when it fails to parse, copies the prompt,
adds nothing to its parent, duplicates a known problem, or fails verification;
why is recorded per round. Lineage (root, parent, operator, depth) goes into every
kept row's provenance. Depth is capped (default 3): a problem at the cap is final.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from factory.errors import FactoryError
from factory.filters.rouge import rouge_tokens
from factory.llm.types import LLMRequest, LLMResponse
from factory.problem import Problem
from factory.recipes.rounds import outcomes, recipe_of, recipe_problems
from factory.run.engine import Run
from factory.sources.llm import LLMSource, format_instructions, problem_example
from factory.spec import Spec

RECIPE = "evol_instruct"

Operator = Literal[
    "add_constraints", "deepen", "concretize", "increase_reasoning", "complicate_input", "breadth"
]

IN_DEPTH: dict[str, str] = {
    "add_constraints": "Add one more constraint or requirement to the problem, so that a "
    "solution has to take more care. Keep everything else.",
    "deepen": "Make the question the problem asks deeper or more general, so that answering "
    "it needs more understanding of the topic.",
    "concretize": "Replace general concepts in the problem with more specific ones (concrete "
    "quantities, objects, settings), so that it asks for more specific work.",
    "increase_reasoning": "Rewrite the problem so that solving it clearly takes more steps of "
    "reasoning than the original does.",
    "complicate_input": "Make the problem's input more complex: more or larger values, more "
    "structured data, or more cases to handle.",
}
IN_BREADTH = {
    "breadth": "Write a brand-new problem in the same domain and of similar difficulty, on a "
    "related but less common topic. It must not be a rewording of the original.",
}
OPERATORS: dict[str, str] = {**IN_DEPTH, **IN_BREADTH}

_PROMPT = """You rewrite problems for a dataset of verified problems and solutions.

Operation: {instruction}

Rules: the new problem must be self-contained and solvable, with exactly one verifiable
answer{code_rule}. It may be at most {max_extra} words longer than the original. Do not
mention the original problem, these instructions, or that anything was rewritten.

#Original problem#
{original}

{format}"""

# Words a rewritten problem has no business holding: it copied the prompt around it.
_PROMPT_MARKERS = (
    "#original problem#",
    "#rewritten problem#",
    "original problem",
    "rewritten problem",
    "rewritten version",
    "given problem",
    "the operation:",
)

PROMPT_VERSION = hashlib.sha256(
    json.dumps({"prompt": _PROMPT, "operators": OPERATORS}, sort_keys=True).encode()
).hexdigest()[:12]


class EvolveOptions(BaseModel):
    """How problems evolve."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rounds: int = Field(1, ge=1, le=20)
    max_depth: int = Field(3, ge=1, le=20, description="Evolutions from the original, at most.")
    operators: tuple[str, ...] = tuple(OPERATORS)
    max_extra_words: int = Field(40, ge=1, description="How much longer an evolution may grow.")
    min_words: int = Field(3, ge=1)

    @field_validator("operators")
    @classmethod
    def _known(cls, operators: tuple[str, ...]) -> tuple[str, ...]:
        if not operators:
            raise ValueError("at least one operator is needed")
        for op in operators:
            if op not in OPERATORS:
                raise ValueError(f"unknown operator {op!r}; known: {', '.join(OPERATORS)}")
        return tuple(dict.fromkeys(operators))


def lineage_of(problem: Problem) -> dict[str, Any]:
    """The evolution record of ``problem`` ({} for a problem that was never evolved)."""
    recipe = recipe_of({"metadata": problem.metadata})
    return recipe if recipe.get("name") == RECIPE else {}


def depth_of(problem: Problem) -> int:
    """How many evolutions separate ``problem`` from its original."""
    return int(lineage_of(problem).get("depth", 0))


def why_eliminated(
    parent: Problem, child: Problem, *, min_words: int
) -> tuple[str, str] | None:
    """(reason, message) when an evolution is worthless on its face; None when it may live.

    ``copied_prompt``: it repeats words of the evolution prompt; ``no_change``: it holds
    no word its parent lacks (the same problem, reworded at best); ``too_short``.
    """
    text = child.statement.lower()
    words = len(child.statement.split())
    if words < min_words:
        return "too_short", f"{words} word(s); at least {min_words} needed"
    for marker in _PROMPT_MARKERS:
        if marker in text:
            return "copied_prompt", f"contains {marker!r} from the evolution prompt"
    new_words = set(rouge_tokens(child.statement)) - set(rouge_tokens(parent.statement))
    if not new_words:
        return "no_change", "the evolution adds no word its parent lacks"
    return None


class EvolInstruct:
    """The Evol-Instruct feed of a :class:`~factory.run.engine.Run`."""

    def __init__(self, spec: Spec, inputs: list[Problem], options: EvolveOptions) -> None:
        role = spec.roles.generator
        if role is None:
            raise FactoryError(
                f"spec {spec.name!r}: evolve needs roles.generator (the model that rewrites "
                "problems); pass --spec with a spec that has one"
            )
        if not inputs:
            raise FactoryError("evolve needs at least one input problem")
        wrong = [p for p in inputs if p.domain != spec.domain]
        if wrong:
            raise FactoryError(
                f"input problem {wrong[0].id} is {wrong[0].domain!r}, the spec "
                f"{spec.name!r} is {spec.domain!r}"
            )
        self.spec = spec
        self.role = role
        self.inputs = inputs
        self.options = options
        self.source = LLMSource.for_spec(spec)
        self.code_style = self.source.options.code_style

    # ---- population

    def _population(self, run: Run, round_: int) -> list[Problem]:
        if round_ == 1:
            return list(self.inputs)
        return [
            Problem.model_validate(data)
            for recipe, data in recipe_problems(run.store, RECIPE, "done")
            if recipe["round"] == round_ - 1
        ]

    async def produce(self, run: Run, queue: asyncio.Queue[Problem | None]) -> None:
        """Evolve round by round; a finished round is never redone."""
        for round_ in range(1, self.options.rounds + 1):
            if run.stopping:
                return
            if run.store.generation_done(round_):
                continue
            population = self._population(run, round_)
            if not population:
                return  # nothing survived the previous round
            if not await self._round(run, round_, population):
                return

    def _request(self, parent: Problem, round_: int) -> tuple[str, LLMRequest]:
        rng = random.Random(f"{self.spec.seed}:{RECIPE}:{round_}:{parent.id}")
        operator = rng.choice(self.options.operators)
        code_rule = ""
        if parent.domain == "code":
            code_rule = (
                ", a reference solution that is correct, and tests that the reference passes "
                "and wrong programs fail"
            )
        prompt = _PROMPT.format(
            instruction=OPERATORS[operator],
            code_rule=code_rule,
            max_extra=self.options.max_extra_words,
            original=json.dumps(problem_example(parent), ensure_ascii=False),
            format=format_instructions(parent.domain, self.code_style, 1),
        )
        # The generator's few-shot turns show how to write problems, not how to rewrite one.
        return operator, self.role.request(
            prompt, sample_index=round_, prompt_version=PROMPT_VERSION, few_shot=False
        )

    async def _round(self, run: Run, round_: int, population: list[Problem]) -> bool:
        """Evolve every member once; False when the run must stop."""
        parents = [p for p in population if depth_of(p) < self.options.max_depth]
        for parent in population:
            if depth_of(parent) >= self.options.max_depth:
                run.record_drop(
                    f"{RECIPE}-r{round_}-{parent.id}",
                    "evolve",
                    "at_max_depth",
                    {
                        "round": round_,
                        "parent_id": parent.id,
                        "message": f"depth {depth_of(parent)} is the cap "
                        f"(max_depth={self.options.max_depth}); the problem is final",
                    },
                )
        planned = [(parent, *self._request(parent, round_)) for parent in parents]
        responses = await run.call_all([request for _, _, request in planned], "generator")
        children: list[Problem] = []
        for (parent, operator, _), response in zip(planned, responses, strict=False):
            child = self._child(run, round_, parent, operator, response)
            if child is not None:
                children.append(child)
            if run.stopping:
                return False
        if len(responses) < len(planned):
            return False
        await run.process_many([c for c in children if run.store.problem_state(c.id) == "open"])
        if run.stopping:
            return False
        survived = sum(run.store.problem_state(c.id) == "done" for c in children)
        run.store.mark_generation(round_, survived)
        return True

    def _child(
        self, run: Run, round_: int, parent: Problem, operator: str, response: LLMResponse
    ) -> Problem | None:
        """The evolved problem, added to the run; None (and a recorded reason) when it died."""
        key = f"{RECIPE}-r{round_}-{parent.id}"
        where = {
            "round": round_,
            "parent_id": parent.id,
            "operator": operator,
            "request_key": response.request_key,
        }
        problems, rejections = self.source.parse_items(response.text)
        if rejections or len(problems) != 1:
            message = (
                rejections[0].message if rejections else f"{len(problems)} problems, not one"
            )
            detail = rejections[0].reason if rejections else "not_one_problem"
            run.record_drop(
                key, "evolve", "invalid_format", {**where, "detail": detail, "message": message}
            )
            return None
        lineage = {
            "name": RECIPE,
            "round": round_,
            "parent_id": parent.id,
            "root_id": lineage_of(parent).get("root_id", parent.id),
            "operator": operator,
            "depth": depth_of(parent) + 1,
        }
        evolved = problems[0]
        child = Problem(
            **evolved.model_dump(exclude={"id", "source", "metadata", "topic", "difficulty"}),
            topic=evolved.topic or parent.topic,
            difficulty=evolved.difficulty or parent.difficulty,
            source=RECIPE,
            metadata={"recipe": lineage},
        )
        elimination = why_eliminated(parent, child, min_words=self.options.min_words)
        if elimination is None and run.store.problem_state(child.id) is not None:
            if recipe_of(run.store.problem_data(child.id) or {}) == lineage:
                return child  # this very evolution, added before a restart
            elimination = ("duplicate", "the run already holds this exact problem")
        if elimination is not None:
            reason, message = elimination
            run.record_drop(
                key,
                "evolve",
                reason,
                {**where, "message": message, "statement": child.statement[:300]},
            )
            return None
        if not run.add_problem(child):
            run.request_stop(f"the run holds its limit of {run.n_problems} problems")
            return None
        return child

    # ---- the report

    def report(self, run: Run) -> dict[str, Any]:
        """Per round: evolutions attempted, survivors, and why the others died."""
        rounds = {
            r: {"round": r, "attempted": 0, "survived": 0, "open": 0, "died": {}, "final": 0}
            for r in range(1, self.options.rounds + 1)
        }
        for record in run.store.rejections():
            if record.get("stage") != "evolve" or record.get("round") not in rounds:
                continue
            entry = rounds[record["round"]]
            if record["reason"] == "at_max_depth":
                entry["final"] += 1
                continue
            entry["attempted"] += 1
            entry["died"][record["reason"]] = entry["died"].get(record["reason"], 0) + 1
        for round_, outcome in outcomes(run.store, RECIPE):
            if round_ not in rounds:
                continue
            entry = rounds[round_]
            entry["attempted"] += 1
            if outcome == "done":
                entry["survived"] += 1
            elif outcome == "open":
                entry["open"] += 1
            else:
                entry["died"][outcome] = entry["died"].get(outcome, 0) + 1
        return {
            "name": RECIPE,
            "inputs": len(self.inputs),
            "max_depth": self.options.max_depth,
            "rounds": [rounds[r] for r in sorted(rounds)],
        }
