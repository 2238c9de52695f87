"""Draw the optimizer-paths picture of the README: ``python scripts/optimizer_paths.py [OUT.png]``.

SGD, momentum and Adam on the lecture 2-2-1 network with only w5 and w6 free, manual rule and torch.optim.
"""

import sys

from manual_vs_autograd.plots.common import save_figure
from manual_vs_autograd.plots.optimizer_paths import lecture_optimizer_paths

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/images/optimizer_paths.png"
    print(f"wrote {save_figure(lecture_optimizer_paths(), out)}")
