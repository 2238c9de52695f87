"""``python -m manual_vs_autograd`` is the ``mva`` command (through the console script's entry, ``_mva_entry``)."""

from _mva_entry import main

raise SystemExit(main())
