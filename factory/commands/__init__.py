"""Sub-commands of the `factory` CLI, each a thin typer layer over library functions."""
