"""Ctrl-C while ``mva`` is still importing torch: one line and exit 130, no traceback.

The console script enters through ``_mva_entry``, which imports nothing heavy; the interrupt is
simulated deterministically by an import hook that raises it while the command line is imported.
"""

from __future__ import annotations

import importlib.abc
import sys

import _mva_entry


class _InterruptImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # noqa: ANN001 - importlib's signature
        if name == "manual_vs_autograd.cli.main":
            raise KeyboardInterrupt
        return None


def test_an_interrupt_during_start_up_is_one_line(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "manual_vs_autograd.cli.main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport(), *sys.meta_path])
    assert _mva_entry.main(["compare"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "mva: interrupted while starting\n"


def test_the_entry_runs_the_command_line(capsys):
    assert _mva_entry.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mva ")
