"""Same as ``mva plot RUN``: draw the pictures of a saved run record. ``--help`` for the options."""

import sys

from manual_vs_autograd.cli import main

if __name__ == "__main__":
    sys.exit(main(["plot", *sys.argv[1:]]))
