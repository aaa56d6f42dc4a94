"""Run untrusted programs in a hardened Docker sandbox. Knows nothing of verdicts.

`sandbox.job` (Job, JobResult), `sandbox.pool` (SandboxPool, default_pool), `sandbox.errors`;
`factory sandbox build` makes the image, `factory sandbox doctor` checks it. The threat model is
in sandbox/README.md.
"""
