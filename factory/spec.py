"""Problem specs: one YAML file per task domain, validated with pydantic at the edge.

``load_spec(path)`` reads a spec and returns a :class:`Spec` or raises
:class:`~factory.errors.SpecError` naming the file, the line, the field path and
what is wrong, e.g.::

    problem_specs/x.yaml:14: field 'roles.solver.temperature': must be between 0 and 2 (got 3.5)

Everything is checked before any LLM call: unknown fields (with a "did you
mean" hint), types and ranges, template placeholders, that the verifier and the
source kind are registered, the source's own options, and that a file source's
file exists. After that the rest of the code trusts the Spec.

Field-by-field documentation with examples: problem_specs/README.md.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import string
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from factory.errors import FactoryError, SpecError
from factory.llm.types import ChatMessage, LLMRequest
from factory.problem import Problem
from factory.sources.base import SourceContext
from factory.sources.registry import (
    available_sources,
    build_source,
    get_source_class,
    options_model,
)
from verifiers.errors import VerifierError
from verifiers.registry import available_verifiers

HASH_LENGTH = 12

OutputFormat = Literal["json", "boxed", "code", "text", "auto"]
"""What a role's answer looks like: a JSON document (problem generation), a final
answer in ``\\boxed{}`` (math), one fenced Python code block (code), free text, or
``auto``: boxed for math problems and code for code problems (for mixed specs)."""

MIXED = "mixed"
"""The ``domain`` of a spec whose problems carry different domains (see the mix source)."""

AUTO_FORMATS = {"math": "boxed", "code": "code"}

GENERATOR_PLACEHOLDERS = frozenset(
    {"count", "domain", "description", "topic", "difficulty", "examples", "format"}
)
"""Names a generator prompt template may use (filled in by the generating source)."""

SOLVER_PLACEHOLDERS = frozenset(
    {"statement", "domain", "topic", "difficulty", "entry_point", "format"}
)
"""Names a solver prompt template may use (filled in from the Problem by the run)."""

OUTPUT_FIELDS = frozenset(
    {
        "id",
        "problem_id",
        "statement",
        "domain",
        "topic",
        "difficulty",
        "source",
        "trust",
        "reference_answer",
        "reference_solution",
        "tests",
        "entry_point",
        "stdio",
        "check",
        "solution",
        "answer",
        "model",
        "sample_index",
        "verdict",
        "reason",
        "verifier",
        "verifier_version",
        "prompt_version",
        "spec_name",
        "spec_version",
        "spec_hash",
        "usage",
        "cost_usd",
        "metadata",
    }
)
"""Columns an output row may have; ``output.fields`` picks and orders them."""

DEFAULT_OUTPUT_FIELDS = (
    "id",
    "statement",
    "domain",
    "topic",
    "difficulty",
    "trust",
    "reference_answer",
    "solution",
    "answer",
    "model",
    "verifier",
    "verifier_version",
    "prompt_version",
    "spec_hash",
)


def solver_format_instructions(output_format: str, entry_point: str | None = None) -> str:
    """What the solver's answer must look like, for the solver prompt's ``{format}``."""
    if output_format == "boxed":
        return "Reason step by step, then give only the final answer in \\boxed{}."
    if output_format == "code" and entry_point:
        return (
            "Answer with one ```python code block that defines the function "
            f"`{entry_point}`, with any imports it needs."
        )
    if output_format == "code":
        return (
            "Answer with one ```python code block holding a complete program that reads "
            "standard input and writes the answer to standard output."
        )
    if output_format == "json":
        return "Answer with one JSON document and nothing else."
    return ""


class FieldProblem(ValueError):
    """A cross-field check failed; ``loc`` is the field it is about, relative to the model."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _close(name: str, choices: Any) -> str:
    """A " (did you mean 'x'?)" hint, or "" when nothing is close."""
    match = difflib.get_close_matches(str(name), sorted(str(c) for c in choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def template_placeholders(template: str) -> list[str]:
    """The ``{names}`` a str.format template uses, in order; ValueError if malformed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"malformed template: {exc}; write {{{{ and }}}} for literal braces "
            "(e.g. \\boxed{{}})"
        ) from None
    names = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise ValueError(
                "positional placeholder {} is not allowed: name it, or write {{}} for "
                "literal braces (e.g. \\boxed{{}})"
            )
        names.append(field)
    return names


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill a validated template; ``{{`` and ``}}`` become literal braces."""
    return template.format_map(values)


def short_hash(payload: Any) -> str:
    """A short sha256 of canonical JSON (sorted keys): equal content, equal hash."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FewShot(_Strict):
    """One worked exchange shown to the model before the real prompt."""

    user: str = Field(min_length=1)
    assistant: str = Field(min_length=1)


class RoleSpec(_Strict):
    """How one LLM role is called: model, sampling, prompts and the answer's format."""

    allowed_placeholders: ClassVar[frozenset[str]] = frozenset()

    model: str = Field(min_length=1, description="Model name as the LLM client knows it.")
    temperature: float = Field(1.0, ge=0, le=2)
    max_tokens: int = Field(2048, ge=1, le=200_000)
    system: str = Field("", description="System prompt, used verbatim (no placeholders).")
    prompt: str = Field(
        min_length=1,
        description="User prompt template, str.format style: {name} placeholders, "
        "{{ and }} for literal braces.",
    )
    output_format: OutputFormat
    few_shot: list[FewShot] = Field(default_factory=list)

    @field_validator("prompt")
    @classmethod
    def _known_placeholders(cls, prompt: str) -> str:
        allowed = cls.allowed_placeholders
        for name in template_placeholders(prompt):
            if name not in allowed:
                known = ", ".join("{" + a + "}" for a in sorted(allowed))
                hint = _close(name, allowed)
                raise ValueError(
                    f"unknown placeholder {{{name}}}{hint}; allowed: {known} "
                    "(write {{ and }} for literal braces)"
                )
        return prompt

    def few_shot_messages(self) -> list[ChatMessage]:
        """The few-shot exchanges as alternating user/assistant messages."""
        return [
            m
            for shot in self.few_shot
            for m in (
                ChatMessage(role="user", content=shot.user),
                ChatMessage(role="assistant", content=shot.assistant),
            )
        ]

    @property
    def prompt_version(self) -> str:
        """Short hash of what shapes this role's prompts (not the model or sampling)."""
        return short_hash(
            {
                "system": self.system,
                "prompt": self.prompt,
                "few_shot": [f.model_dump() for f in self.few_shot],
                "output_format": self.output_format,
            }
        )

    def render(self, **values: Any) -> str:
        """The user prompt with ``values`` filled in."""
        return render_template(self.prompt, values)

    def request(
        self,
        prompt: str,
        *,
        sample_index: int,
        prompt_version: str | None = None,
        few_shot: bool = True,
    ) -> LLMRequest:
        """A request to this role's model: its system prompt, few-shot turns (unless the
        prompt is for another task) and sampling, then ``prompt`` as the user turn.
        ``prompt_version`` defaults to the role's own."""
        return LLMRequest(
            model=self.model,
            system=self.system,
            few_shot=self.few_shot_messages() if few_shot else [],
            messages=[ChatMessage(role="user", content=prompt)],
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            sample_index=sample_index,
            prompt_version=prompt_version or self.prompt_version,
        )


class GeneratorRole(RoleSpec):
    """The LLM that writes problems (only for sources that generate, e.g. ``llm``)."""

    allowed_placeholders: ClassVar[frozenset[str]] = GENERATOR_PLACEHOLDERS
    temperature: float = Field(1.0, ge=0, le=2)
    max_tokens: int = Field(4096, ge=1, le=200_000)
    output_format: OutputFormat = "json"


class SolverRole(RoleSpec):
    """The LLM that writes candidate solutions, sampled ``samples_per_problem`` times."""

    allowed_placeholders: ClassVar[frozenset[str]] = SOLVER_PLACEHOLDERS


class Roles(_Strict):
    """The LLM roles of a spec."""

    generator: GeneratorRole | None = None
    solver: SolverRole


class VerifierSpec(_Strict):
    """Which registered verifier judges candidates, and its options."""

    name: str = Field(min_length=1, description="A name from `factory verifiers`.")
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        try:
            known = available_verifiers()
        except VerifierError as exc:  # e.g. two plugins claim one name
            raise ValueError(str(exc)) from None
        if name not in known:
            raise ValueError(
                f"unknown verifier {name!r}{_close(name, known)}; known: {', '.join(known)} "
                "(a plugin verifier must be installed to be used)"
            )
        return name


class SourceSpec(_Strict):
    """Where problems come from: a registered source kind and that kind's options.

    ``options`` is validated against the source's own ``Options`` model, so a
    wrong option fails here with its path (``source.options.path``).
    """

    kind: str = Field(min_length=1, description="llm, file, procedural or a plugin's name.")
    options: Any = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        try:
            get_source_class(kind)
        except SpecError as exc:
            known = available_sources()
            if kind in known:  # registered, but broken: say so as the registry does
                raise ValueError(str(exc)) from None
            raise ValueError(
                f"unknown source kind {kind!r}{_close(kind, known)}; known: {', '.join(known)}"
            ) from None
        return kind

    @field_validator("options")
    @classmethod
    def _validate_options(cls, options: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if kind is None:  # the kind itself was invalid and is reported on its own
            return options
        try:
            model = options_model(kind)
        except SpecError as exc:
            raise ValueError(str(exc)) from None
        if isinstance(options, model):
            return options
        if options is None:
            options = {}
        # A ValidationError raised here keeps its locations under source.options.
        return model.model_validate(options)


class Example(_Strict):
    """A seed example: shown to the generator, so it sees the style wanted."""

    statement: str = Field(min_length=1)
    answer: str | None = None
    solution: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    stdio: list[dict[str, str]] | None = None
    topic: str | None = None
    difficulty: str | None = None


class Consensus(_Strict):
    """Keep an LLM-generated math reference only if ``k`` of ``n`` independent solves agree."""

    k: int = Field(ge=1)
    n: int = Field(ge=1, le=64)

    @model_validator(mode="after")
    def _k_majority(self) -> Consensus:
        if self.k > self.n:
            raise FieldProblem(("k",), f"must be at most n={self.n} (got {self.k})")
        # With k at most half of n, two different answers could both reach consensus.
        if 2 * self.k <= self.n:
            raise FieldProblem(
                ("k",),
                f"must be a strict majority of n={self.n}, i.e. > {self.n / 2:g} (got {self.k})",
            )
        return self


class Budget(_Strict):
    """Hard caps; a run stops cleanly when one is reached. Unset means no cap."""

    max_usd: float | None = Field(None, gt=0)
    max_tokens: int | None = Field(None, ge=1)
    max_problems: int | None = Field(None, ge=1)


class OutputSpec(_Strict):
    """Which columns the published rows have, in order."""

    fields: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTPUT_FIELDS), min_length=1)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: list[str]) -> list[str]:
        for i, name in enumerate(fields):
            if name not in OUTPUT_FIELDS:
                raise FieldProblem(
                    (i,),
                    f"unknown output field {name!r}{_close(name, OUTPUT_FIELDS)}; "
                    f"known: {', '.join(sorted(OUTPUT_FIELDS))}",
                )
            if name in fields[:i]:
                raise FieldProblem((i,), f"output field {name!r} is listed twice")
        return fields


class Spec(_Strict):
    """A problem spec: what to generate, how to solve it, how to verify it, what to keep."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="A slug: a-z, 0-9, _ and -.")
    version: str = Field(min_length=1, description="Bump when the spec changes meaning.")
    description: str = Field(min_length=1)
    seed: int = Field(0, ge=0, description="Seeds every random choice: same seed, same run.")
    domain: str = Field(min_length=1, description="math, code, or a plugin's domain.")
    verifier: VerifierSpec | None = Field(
        None, description="The verifier for every problem. Give this or `verifiers`."
    )
    verifiers: dict[str, VerifierSpec] | None = Field(
        None, description="A verifier per problem domain, e.g. for domain: mixed."
    )
    source: SourceSpec
    roles: Roles
    examples: list[Example] = Field(default_factory=list)
    samples_per_problem: int = Field(1, ge=1, le=64, description="Solver samples per problem.")
    consensus: Consensus | None = None
    budget: Budget = Field(default_factory=Budget)
    output: OutputSpec = Field(default_factory=OutputSpec)

    _base_dir: Path = PrivateAttr(default_factory=lambda: Path("."))
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, version: Any) -> Any:
        # YAML reads `version: 1` as an int and `1.0` as a float; both mean a version.
        if isinstance(version, int | float) and not isinstance(version, bool):
            return str(version)
        return version

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        kind = self.source.kind
        options = self.source.options
        # A source may state which domains it produces (procedural: math; mix: its entries').
        declared = getattr(options, "supported_domains", None)
        domains = list(declared()) if callable(declared) else None
        if self.domain == MIXED and domains is None:
            raise FieldProblem(
                ("domain",),
                f"'mixed' needs a source that says which domains it produces (e.g. kind: mix); "
                f"a {kind!r} source does not",
            )
        if self.domain != MIXED and domains is not None and set(domains) - {self.domain}:
            raise FieldProblem(
                ("domain",),
                f"a {kind!r} source with these options produces {', '.join(domains)} "
                f"problems, not {self.domain!r}"
                + (" (use domain: mixed)" if len(domains) > 1 else ""),
            )
        produced = domains if domains is not None else [self.domain]
        if self.verifier is None and self.verifiers is None:
            raise FieldProblem(
                ("verifier",),
                "required field is missing (or give `verifiers`, one per domain)",
            )
        if self.verifier is not None and self.verifiers is not None:
            raise FieldProblem(("verifiers",), "give either `verifier` or `verifiers`, not both")
        if self.verifiers is not None:
            missing = [d for d in produced if d not in self.verifiers]
            if missing:
                raise FieldProblem(
                    ("verifiers",),
                    f"no verifier for domain {missing[0]!r} (the source produces "
                    f"{', '.join(produced)})",
                )
        solver_format = self.roles.solver.output_format
        if solver_format == "auto":
            unknown = [d for d in produced if d not in AUTO_FORMATS]
            if unknown:
                raise FieldProblem(
                    ("roles", "solver", "output_format"),
                    f"'auto' only knows {', '.join(AUTO_FORMATS)}, not {unknown[0]!r}: "
                    "name the format",
                )
        generates = callable(getattr(_source_class_or_none(kind), "build_requests", None))
        if generates and self.roles.generator is None:
            raise FieldProblem(
                ("roles", "generator"),
                f"required when source.kind is {kind!r} (it writes problems with an LLM)",
            )
        if self.consensus is not None:
            if not generates:
                raise FieldProblem(
                    ("consensus",),
                    f"only applies to LLM-generated references; a {kind!r} source has "
                    "ground truth: remove consensus",
                )
            if set(produced) != {"math"}:
                raise FieldProblem(
                    ("consensus",), f"only applies to math (domain is {self.domain!r})"
                )
            if self.consensus.n > self.samples_per_problem:
                raise FieldProblem(
                    ("consensus", "n"),
                    f"must be at most samples_per_problem={self.samples_per_problem} "
                    f"(got {self.consensus.n}): consensus is taken over the solver's samples",
                )
        return self

    def verifier_for(self, domain: str) -> VerifierSpec:
        """The verifier that judges problems of ``domain``."""
        if self.verifiers is not None:
            if domain not in self.verifiers:
                raise SpecError(f"spec {self.name!r}: no verifier for domain {domain!r}")
            return self.verifiers[domain]
        assert self.verifier is not None  # guaranteed by validation
        return self.verifier

    def render_solver_prompt(self, problem: Problem) -> str:
        """The solver's user prompt for ``problem``, every placeholder filled in."""
        fmt = self.solver_output_format(problem.domain)
        entry_point = problem.reference.entry_point
        return self.roles.solver.render(
            statement=problem.statement,
            domain=problem.domain,
            topic=problem.topic or "",
            difficulty=problem.difficulty or "",
            entry_point=entry_point or "",
            format=solver_format_instructions(fmt, entry_point),
        )

    def solver_output_format(self, domain: str) -> str:
        """The solver's output format for a problem of ``domain`` (resolves ``auto``)."""
        fmt = self.roles.solver.output_format
        return AUTO_FORMATS.get(domain, "text") if fmt == "auto" else fmt

    # ---- derived values

    @property
    def prompt_version(self) -> str:
        """Short hash of every prompt template (and few-shot, examples): a changed prompt
        changes it, and with it every cache key that includes it."""
        gen = self.roles.generator
        return short_hash(
            {
                "generator": gen.prompt_version if gen is not None else None,
                "solver": self.roles.solver.prompt_version,
                "examples": [e.model_dump(mode="json") for e in self.examples],
            }
        )

    def canonical(self) -> dict[str, Any]:
        """The spec's content as plain JSON data (what :meth:`spec_hash` hashes)."""
        data = self.model_dump(mode="json")
        source = self.source
        if isinstance(source.options, BaseModel):
            data["source"]["options"] = source.options.model_dump(mode="json")
        return data

    def spec_hash(self) -> str:
        """Short hash of the canonical content: independent of key order and of
        defaults being written out or not."""
        return short_hash(self.canonical())

    @property
    def path(self) -> Path | None:
        """The file this spec was loaded from, if any."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the spec resolve (the spec file's directory)."""
        return self._base_dir

    def with_base_dir(self, base_dir: Path, path: Path | None = None) -> Spec:
        """A copy whose relative paths resolve against ``base_dir``."""
        spec = self.model_copy()
        spec._base_dir = Path(base_dir)
        spec._path = path
        return spec

    def source_context(self) -> SourceContext:
        """The context the spec's source is built with."""
        return SourceContext(domain=self.domain, base_dir=self._base_dir, spec_name=self.name)

    def build_source(self) -> Any:
        """Build this spec's problem source (a ProblemSource or a GeneratingSource)."""
        return build_source(self.source.kind, self.source.options, self.source_context())

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON schema, with ``source`` spelled out per registered source kind."""
        schema = super().model_json_schema(*args, **kwargs)
        _add_source_kinds(schema)
        return schema


def _source_class_or_none(kind: str) -> type | None:
    try:
        return get_source_class(kind)
    except SpecError:
        return None


def _add_source_kinds(schema: dict[str, Any]) -> None:
    """Replace the free-form ``source.options`` with one branch per registered kind."""
    defs = schema.setdefault("$defs", {})
    branches = []
    for kind in available_sources():
        cls = _source_class_or_none(kind)
        if cls is None:
            continue
        sub = cls.Options.model_json_schema(ref_template="#/$defs/{model}")
        for name, definition in sub.pop("$defs", {}).items():
            defs.setdefault(name, definition)
        title = sub.get("title", f"{kind}Options")
        defs.setdefault(title, sub)
        branches.append(
            {
                "type": "object",
                "properties": {
                    "kind": {"const": kind},
                    "options": {"$ref": f"#/$defs/{title}"},
                },
                "required": ["kind"],
            }
        )
    if "SourceSpec" in defs and branches:
        defs["SourceSpec"]["oneOf"] = branches


# --------------------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"{where}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    return data, node


def _node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    current: yaml.Node = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if getattr(key_node, "value", None) == str(part):
                    line = key_node.start_mark.line + 1
                    current = value_node
                    break
            else:
                return line
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                return line
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            return line
    return line


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(loc: tuple[Any, ...], data: Any) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``loc`` (for "did you mean" and bounds)."""
    import types
    import typing

    model: Any = Spec
    raw = data
    for part in loc:
        if isinstance(part, int):
            raw = raw[part] if isinstance(raw, list) and part < len(raw) else None
            continue
        if model is SourceSpec and part == "options":
            kind = raw.get("kind") if isinstance(raw, dict) else None
            cls = _source_class_or_none(kind) if isinstance(kind, str) else None
            model = cls.Options if cls is not None else None
            raw = raw.get(part) if isinstance(raw, dict) else None
            if model is None:
                return None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        raw = raw.get(part) if isinstance(raw, dict) else None
        # Unwrap Optional[...] and list[...] down to a model, if there is one.
        annotation = field.annotation
        next_model = None
        stack = [annotation]
        while stack:
            candidate = stack.pop()
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                next_model = candidate
                break
            origin = typing.get_origin(candidate)
            if origin in (list, typing.Union, types.UnionType):
                stack.extend(typing.get_args(candidate))
        model = next_model
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _bounds(loc: tuple[Any, ...], data: Any) -> tuple[Any, Any]:
    """(lower, upper) limits declared on the field at ``loc``, if any."""
    if not loc or isinstance(loc[-1], int):
        return None, None
    model = _model_at(loc[:-1], data)
    field = model.model_fields.get(loc[-1]) if model else None
    low = high = None
    for meta in field.metadata if field else ():
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
        high = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else high
    return low, high


_TYPE_WORDS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _describe(error: dict[str, Any], data: Any) -> tuple[tuple[Any, ...], str]:
    """Turn one pydantic error into (field path, plain-words message with the fix)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    cause = ctx.get("error")
    if isinstance(cause, FieldProblem):
        return loc + cause.loc, cause.message
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], data)
        allowed = sorted(model.model_fields) if model else []
        hint = _close(loc[-1], allowed)
        if hint:
            return loc, f"unknown field{hint}"
        return loc, f"unknown field; allowed here: {', '.join(allowed)}" if allowed else (
            "unknown field"
        )
    if kind == "missing":
        return loc, "required field is missing"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(loc, data)
        if low is not None and high is not None:
            return loc, f"must be between {low} and {high} (got {_show(got)})"
        limit = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        word = {
            "greater_than_equal": "at least",
            "greater_than": "greater than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # pydantic reports gt=0 as 0.0
        return loc, f"must be {word} {limit} (got {_show(got)})"
    if kind in _TYPE_WORDS:
        return loc, f"must be {_TYPE_WORDS[kind]} (got {_show(got)})"
    if kind == "literal_error":
        return loc, f"must be one of {ctx.get('expected')} (got {_show(got)})"
    if kind == "string_too_short":
        return loc, f"must not be empty (got {_show(got)})"
    if kind == "too_short":
        return loc, f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return loc, f"must match {ctx.get('pattern')} (got {_show(got)})"
    if kind == "value_error":
        message = str(cause) if cause is not None else error["msg"].removeprefix("Value error, ")
        return loc, message
    return loc, f"{error['msg'][:1].lower()}{error['msg'][1:]} (got {_show(got)})"


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def format_validation_error(
    exc: ValidationError, path: Path | str, data: Any, node: yaml.Node | None = None
) -> str:
    """One line per problem: ``file:line: field 'a.b': what is wrong``."""
    lines = []
    for error in exc.errors():
        loc, message = _describe(error, data)
        line = _node_line(node, loc)
        where = f"{path}:{line}" if line is not None else str(path)
        field = _format_loc(loc)
        lines.append(f"{where}: field '{field}': {message}" if field else f"{where}: {message}")
    return "\n".join(dict.fromkeys(lines))  # dedupe while keeping order


def parse_spec(data: Any, path: Path | str = "<spec>", node: yaml.Node | None = None) -> Spec:
    """Validate already-parsed spec data; SpecError names ``path`` and each bad field."""
    if data is None:
        raise SpecError(f"{path}: the spec is empty; see problem_specs/README.md for the fields")
    if not isinstance(data, dict):
        raise SpecError(
            f"{path}: a spec must be a YAML mapping of fields (name, version, ...), "
            f"got {type(data).__name__}"
        )
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc, path, data, node)) from None


def load_spec(path: str | Path) -> Spec:
    """Read, validate and preflight the spec at ``path``; raise SpecError on any problem.

    Preflight builds the spec's source, so e.g. a file source's missing data file
    is reported now, before any LLM call.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec file: {exc}") from None
    data, node = _read_yaml(path, text)
    spec = parse_spec(data, path, node).with_base_dir(path.parent, path)
    try:
        spec.build_source()
    except (FactoryError, ValueError, OSError) as exc:
        line = _node_line(node, ("source", "options"))
        where = f"{path}:{line}" if line is not None else str(path)
        raise SpecError(f"{where}: field 'source.options': {exc}") from None
    return spec
