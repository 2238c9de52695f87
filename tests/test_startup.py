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
    def __init__(self, after: str) -> None:
        self.after = after  # raised | swallowed | broken (the half-loaded module then fails to import)

    def find_spec(self, name, path, target=None):  # noqa: ANN001 - importlib's signature
        if name == "manual_vs_autograd.cli.main":
            try:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: its handler runs before the next line
            except KeyboardInterrupt:
                if self.after == "raised":
                    raise
                if self.after == "broken":  # as numpy does when its import is retried after an interrupt
                    raise ImportError("cannot load module more than once per process") from None
        return None


@pytest.mark.parametrize("after", ["raised", "swallowed", "broken"])
def test_an_interrupt_during_start_up_is_one_line(monkeypatch, capsys, after):
    monkeypatch.delitem(sys.modules, "manual_vs_autograd.cli.main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(after), *sys.meta_path])
    assert _mva_entry.main(["compare"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "mva: interrupted while starting\n"


def test_the_entry_runs_the_command_line(capsys):
    assert _mva_entry.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mva ")
