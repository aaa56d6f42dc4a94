"""Publishing: a run directory -> a Hugging Face dataset with a card, stats and checks.

``run_reader`` reads a run (read-only), ``providers`` says who wrote its responses (and
whether anyone was paid) without local paths or URLs, ``stats`` and ``diversity`` measure
it, ``contamination`` checks it against benchmarks, ``dedup`` drops exact duplicates,
``prompts`` gives the chat context every published prompt starts with, ``splits`` names
configs from the spec and splits per config, ``dataset`` writes Parquet configs and splits
(``build_dataset`` for kept rows; ``write_dataset`` under it also writes other datasets
made from a run, e.g. ``factory.recipes.preferences``), ``card`` writes the README,
``hub`` pushes to the Hub and ``plots`` draws charts (optional matplotlib).
"""
