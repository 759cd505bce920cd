"""The ``stretchcast`` command: one module per group of subcommands, ``main`` strings them together."""

from stretchcast.cli.main import main

__all__ = ["main"]
