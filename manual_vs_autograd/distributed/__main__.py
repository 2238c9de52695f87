"""``python -m manual_vs_autograd.distributed``: see :func:`manual_vs_autograd.cli.distributed_options.main`."""

import sys

from ..cli.distributed_options import main

sys.exit(main())
