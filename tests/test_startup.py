"""Ctrl-C while ``mva`` is still importing torch: one line and exit 130, no traceback.

The console script enters through ``_mva_entry``, which imports nothing heavy; the interrupt is
sent deterministically by an import hook while the command line is imported — also the case of a
library that swallows it while it loads (mpmath, which torch imports lazily, has a bare ``except``).
"""

from __future__ import annotations

import importlib.abc
import os
import signal
import sys

import pytest

import _mva_entry


class _InterruptImport(importlib.abc.MetaPathFinder):
    def __init__(self, swallow: bool) -> None:
        self.swallow = swallow

    def find_spec(self, name, path, target=None):  # noqa: ANN001 - importlib's signature
        if name == "manual_vs_autograd.cli.main":
            try:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: its handler runs before the next line
            except KeyboardInterrupt:
                if not self.swallow:
                    raise
        return None


@pytest.mark.parametrize("swallowed", [False, True], ids=["raised", "swallowed by a library"])
def test_an_interrupt_during_start_up_is_one_line(monkeypatch, capsys, swallowed):
    monkeypatch.delitem(sys.modules, "manual_vs_autograd.cli.main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(swallowed), *sys.meta_path])
    assert _mva_entry.main(["compare"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "mva: interrupted while starting\n"


def test_the_entry_runs_the_command_line(capsys):
    assert _mva_entry.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mva ")
