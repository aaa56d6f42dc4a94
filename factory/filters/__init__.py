"""Filters that decide which generated problems a run keeps (near-duplicates first)."""
