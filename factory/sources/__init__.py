"""Problem sources: where problems and their references come from.

Built-in kinds: ``llm`` (an LLM writes problems), ``file`` (JSONL, Parquet or a
Hugging Face dataset with references) and ``procedural`` (SymPy-built problems
with exact answers). Each registers through the ``factory.sources`` entry-point
group, the same way a plugin does; see :mod:`factory.sources.registry`.
"""

from factory.sources.base import (
    GeneratingSource,
    ProblemSource,
    Rejection,
    SourceContext,
)
from factory.sources.registry import (
    available_sources,
    build_source,
    get_source_class,
    register_source,
    unregister_source,
)

__all__ = [
    "GeneratingSource",
    "ProblemSource",
    "Rejection",
    "SourceContext",
    "available_sources",
    "build_source",
    "get_source_class",
    "register_source",
    "unregister_source",
]
