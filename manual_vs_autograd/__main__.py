"""``python -m manual_vs_autograd`` is the ``mva`` command."""

from .cli import main

raise SystemExit(main())
