"""Same as ``mva lecture``: rerun the lecture's experiments beside the notebook's numbers. ``--help``."""

import sys

from manual_vs_autograd.cli import main

if __name__ == "__main__":
    sys.exit(main(["lecture", *sys.argv[1:]]))
