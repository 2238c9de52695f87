"""Same as ``mva bench``: manual backprop against autograd, speed and memory. ``--help`` for options."""

import sys

from manual_vs_autograd.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
