"""The ``mva`` console script's entry point, kept outside the package on purpose.

Importing :mod:`manual_vs_autograd` imports torch, which takes a second or more. This module imports
nothing heavy, so that two things happen before that import:

* **bad output paths are refused at once**: the output options (``compare --save/--plots``,
  ``plot --out``, ``bench --out``) are found in the arguments as argparse would read them and checked
  by :mod:`manual_vs_autograd.pathcheck` (loaded by its file, without importing the package), giving
  the same line and exit status 2 as the full check after the import, which stays;
* **a Ctrl-C (or SIGTERM) during the import** is one line and the usual exit status, not a traceback
  from deep inside torch.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

OUTPUTS = {  # each subcommand's output options, in the order its run checks them: what each must be
    "compare": (("--save", "file"), ("--plots", "folder")),
    "plot": (("--out", "folder"),),
    "bench": (("--out", "bench folder"),),
}
OPTIONS = {  # every option string of those subcommands' parsers, for argparse's prefixes (a test keeps them in step)
    "compare": (
        "--activation", "--alpha", "--amsgrad", "--batch-size", "--betas", "--centered", "--centers", "--check-every",
        "--dampening",
        "--device", "--dtype", "--epochs", "--eps", "--features", "--help", "--hidden", "--init", "--json", "--loss",
        "--lr", "--momentum", "--norm", "--nproc", "--optimizer", "--plots", "--quiet", "--rdzv-timeout", "--record",
        "--record-every", "--samples", "--save", "--seed", "--weight-decay",
    ),
    "plot": ("--help", "--kind", "--out", "--quiet"),
    "bench": ("--compile", "--device", "--help", "--json", "--no-checked", "--out", "--quick", "--quiet"),
}  # fmt: skip
BENCH_FILES = ("bench.json", "bench.png")  # what mva bench writes into --out


class _Terminated(KeyboardInterrupt):
    """SIGTERM during start-up, handled like Ctrl-C."""


_SIGNALLED: list[int] = []  # signals that came while the command line was being imported


def _on_signal(signum: int, frame: object) -> None:
    """Note the signal and interrupt the import (a library may swallow the exception: the note stays)."""
    _SIGNALLED.append(signum)
    raise _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _resolve(option: str, known: Sequence[str]) -> str | None:
    """``option`` as argparse reads it: an exact option, or the one option it is a prefix of; else None."""
    if option in known:
        return option
    matches = [name for name in known if name.startswith(option)]
    return matches[0] if len(matches) == 1 else None


def _given(args: Sequence[str], command: str, wanted: set[str]) -> dict[str, str] | None:
    """The last value given to each ``wanted`` option (``--opt=value``, ``--opt value``, or a prefix of it).

    None when argparse would answer otherwise than by running the command (``-h``/``--help``, an unknown
    or ambiguous option): the pre-check then says nothing and argparse speaks as usual.
    """
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            break
        if token.startswith("-h"):
            return None
        if not token.startswith("--"):
            continue
        name, equals, value = token.partition("=")
        option = _resolve(name, OPTIONS[command])
        if option is None or option == "--help":
            return None
        if option not in wanted:
            continue
        if equals:
            values[option] = value
        elif i < len(args) and not args[i].startswith("-"):  # argparse reads a value from "-..." only as a number
            values[option] = args[i]
            i += 1
    return values


def _is_one(text: str) -> bool:
    try:
        return int(text) == 1
    except ValueError:
        return False


def _stdlib_module(relative: str) -> ModuleType | None:
    """A module of the package that needs only the standard library (``pathcheck.py``, ``cli/stdout.py``),
    loaded from its file: ``import`` would run the package's ``__init__``, which imports torch. None if the
    package cannot be found."""
    package = importlib.util.find_spec("manual_vs_autograd")
    if package is None or not package.submodule_search_locations:
        return None
    location = os.path.join(list(package.submodule_search_locations)[0], *relative.split("/"))
    spec = importlib.util.spec_from_file_location("_mva_" + relative.replace("/", "_")[:-3], location)
    if spec is None or spec.loader is None or not os.path.isfile(location):
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _say(text: str) -> None:
    """One line on stderr, through the command's guarded writer (a reader that has gone is not an error)."""
    stdout = _stdlib_module("cli/stdout.py")
    if stdout is not None:
        stdout.say(text)
        stdout.flush()
    else:
        print(text, file=sys.stderr)


def refuse_bad_outputs(argv: Sequence[str]) -> str | None:
    """The error line (without ``mva: error: ``) for the first bad output path in ``argv``, or None."""
    if not argv or argv[0] not in OUTPUTS:
        return None
    command = argv[0]
    wanted = {option for option, _ in OUTPUTS[command]} | ({"--nproc"} if command == "compare" else set())
    given = _given(argv[1:], command, wanted)
    if not given or not _is_one(given.get("--nproc", "1")):  # --nproc N: that run refuses outputs itself
        return None
    checks = _stdlib_module("pathcheck.py")  # the full check's own code (the package is not imported)
    if checks is None:
        return None
    try:
        for option, kind in OUTPUTS[command]:
            if option not in given:
                continue
            if kind == "file":
                checks.check_output_file(given[option], option)
            elif kind == "folder":
                checks.check_output_dir(given[option], option)
            else:  # mva bench: a folder, and the two files it writes there
                folder = checks.check_output_dir(given[option], option)
                for name in BENCH_FILES:
                    checks.check_output_file(folder / name, f"{option} file")
    except checks.PathError as err:
        return checks.one_line(err, 300)  # the full check's line: manual_vs_autograd.errors.MAX_LINE
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Refuse bad output paths, import the command line, then run it; an interrupt during the import is one line.

    With ``argv`` None (the console script, ``python -m _mva_entry``) this is the process's own command
    line: once a signal has stopped the work, further SIGINT and SIGTERM are ignored until the process
    exits (see :func:`manual_vs_autograd.cli.guard.hold_until_exit`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    refused = refuse_bad_outputs(args)
    if refused is not None:
        _say(f"mva: error: {refused}")
        return 2
    previous = {  # a signal the parent set to be ignored (``cmd &`` in a script) stays ignored
        signum: signal.signal(signum, _on_signal)
        for signum in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        from manual_vs_autograd.cli.guard import Terminated, hold_until_exit
        from manual_vs_autograd.cli.main import main as run
    except BaseException:  # noqa: BLE001  an interrupted import can leave a half-loaded module that fails next
        if not _SIGNALLED:  # raised by something else than a signal: not ours to explain
            raise
    finally:
        for signum, handler in previous.items():
            if signal.getsignal(signum) is _on_signal:
                signal.signal(signum, handler)
    if _SIGNALLED:  # also when a library caught the exception while it loaded (mpmath has a bare except)
        if argv is None:
            _ignore_signals()
        terminated = _SIGNALLED[0] == signal.SIGTERM
        _SIGNALLED.clear()
        _say(f"mva: {'terminated' if terminated else 'interrupted'} while starting")
        return 143 if terminated else 130
    if argv is None:
        hold_until_exit()
    try:
        return run(args)
    except KeyboardInterrupt as interrupt:  # a second signal in the instant between the command's answer and here
        if argv is None:
            _ignore_signals()
        terminated = isinstance(interrupt, Terminated)
        _say("mva: terminated" if terminated else "mva: interrupted")
        return 143 if terminated else 130


def _ignore_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())
