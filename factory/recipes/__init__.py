"""Recipes on the verifier core: Self-Instruct, Evol-Instruct and verified preference pairs."""
