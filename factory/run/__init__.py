"""A run: the resumable execution of one spec into kept rows and a rejection log."""
