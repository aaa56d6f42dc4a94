"""Publishing: a run directory -> a Hugging Face dataset with a card, stats and checks.

``run_reader`` reads a run (read-only), ``stats`` and ``diversity`` measure it,
``contamination`` checks it against benchmarks, ``dataset`` writes Parquet
configs and splits (``build_dataset`` for kept rows; ``write_dataset`` under it also
writes other datasets made from a run, e.g. ``factory.recipes.preferences``), ``card``
writes the README, ``hub`` pushes to the Hub and ``plots`` draws charts (optional
matplotlib).
"""
