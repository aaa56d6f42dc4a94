"""Run untrusted programs in a hardened Docker sandbox. Knows nothing of verdicts."""
