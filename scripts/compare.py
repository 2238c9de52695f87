"""Same as ``mva compare``: train both sides side by side and report parity. Options: ``--help``."""

import sys

from manual_vs_autograd.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
