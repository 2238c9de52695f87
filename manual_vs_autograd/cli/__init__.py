"""The ``mva`` command line: ``main(argv) -> exit status``."""

from .main import main

__all__ = ["main"]
