"""Start N processes on this machine, wait for them with deadlines, and leave none behind.

The processes are started the standard way, :func:`torch.multiprocessing.start_processes` with the
``spawn`` method, and meet through a ``file://`` rendezvous in a fresh folder (no port to pick, so
no port to collide on). What can go wrong, and how long until the run ends with one line:

* **a process dies** (crash, kill, out of memory): the launcher sees its exit at once (it waits on
  the processes' sentinels every :data:`POLL_S`), gives the others :data:`GRACE_S` to exit on their
  own (one blocked in a collective may not notice the loss that soon), then SIGTERM, another :data:`GRACE_S`, SIGKILL.
  So the run ends within ``2·GRACE_S + POLL_S`` (~4 s) of the death.
* **the rendezvous does not form** (a process that never arrives): each process's
  ``init_process_group`` gives up after ``timeout_s``; as a backstop the launcher itself stops all of
  them if they have not all joined ``STARTUP_S + timeout_s`` after the start. So the run ends within
  ``STARTUP_S + timeout_s + 2·GRACE_S`` of the start.
* **a collective hangs** (a peer alive but stuck): it raises after ``timeout_s``, as above.

Every failure raises :class:`DistributedFailure` with one line; every child has been joined (or
killed and joined) before it propagates, also on Ctrl-C.
"""

from __future__ import annotations

import multiprocessing.connection
import pickle
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessContext

from ..errors import InputError
from .report import DistributedResult, build_result
from .spec import DistributedSpec, plan
from .worker import RESULT_FILE, spawned

__all__ = ["DEFAULT_TIMEOUT_S", "GRACE_S", "POLL_S", "STARTUP_S", "DistributedFailure", "run_distributed"]

DEFAULT_TIMEOUT_S = 60.0
"""Rendezvous and collective timeout of the process group (``init_process_group(timeout=...)``)."""
GRACE_S = 2.0
"""After a failure: how long the other processes get to exit, before SIGTERM and again before SIGKILL."""
POLL_S = 0.2
"""How often the launcher looks at the processes."""
STARTUP_S = 60.0
"""Allowance for starting Python and importing torch in each process, before the rendezvous clock."""


class DistributedFailure(RuntimeError):
    """A distributed run that could not finish: a process died or the processes never met. One line."""


def run_distributed(
    spec: DistributedSpec,
    nproc: int,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    workdir: str | Path | None = None,
    on_ready: Callable[[list[int]], None] | None = None,
) -> DistributedResult:
    """Train both sides data-parallel over ``nproc`` local processes and compare them.

    Args:
        spec: the run; checked first (bad input raises :class:`~manual_vs_autograd.errors.InputError`
            before any process starts).
        timeout_s: the process group's rendezvous and collective timeout.
        workdir: folder for the rendezvous file, the ``ready.<rank>`` markers and rank 0's result;
            default a temporary folder, removed afterwards.
        on_ready: called once with the processes' pids when all of them have joined the group.

    Raises:
        DistributedFailure: a process died or the rendezvous did not form (one line, no child left).
    """
    p = plan(spec, nproc)
    if not 0 < timeout_s < float("inf"):
        raise InputError(f"the rendezvous timeout must be a positive number of seconds, got {timeout_s!r}")
    own_dir = workdir is None
    run_dir = Path(tempfile.mkdtemp(prefix="mva-ddp-") if workdir is None else workdir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rendezvous = run_dir / "rendezvous"
    rendezvous.unlink(missing_ok=True)  # the file store wants a fresh file
    context = mp.start_processes(
        spawned,
        args=(p, f"file://{rendezvous}", float(timeout_s), str(run_dir)),
        nprocs=nproc,
        join=False,
        daemon=True,
        start_method="spawn",
    )
    try:
        _wait(context, run_dir, nproc, timeout_s, on_ready)
        if not (run_dir / RESULT_FILE).exists():  # e.g. Ctrl-C: the processes stop quietly on SIGINT
            raise DistributedFailure("the processes ended without a result from rank 0 (interrupted?)")
        raw = torch.load(run_dir / RESULT_FILE, weights_only=True)
    finally:
        _stop(context)  # nothing is left running, also on Ctrl-C or an error here
        for path in context.error_files:
            Path(path).unlink(missing_ok=True)
        if own_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
    return build_result(p, raw)


def _wait(context: ProcessContext, run_dir: Path, nproc: int, timeout_s: float, on_ready) -> None:
    """Return when every process has exited with status 0; on the first failure stop them all and raise."""
    ready_by = time.monotonic() + STARTUP_S + timeout_s
    ready = False
    running = {proc.sentinel: i for i, proc in enumerate(context.processes)}
    while running:
        for sentinel in multiprocessing.connection.wait(list(running), timeout=POLL_S):
            index = running.pop(sentinel)
            context.processes[index].join()
            if context.processes[index].exitcode != 0:
                _stop(context, let_exit_s=GRACE_S)
                raise DistributedFailure(_describe(context, index))
        if not ready and all((run_dir / f"ready.{r}").exists() for r in range(nproc)):
            ready = True
            if on_ready is not None:
                on_ready(context.pids())
        if not ready and time.monotonic() > ready_by:
            _stop(context)
            raise DistributedFailure(
                f"the {nproc} processes did not all join the process group within "
                f"{STARTUP_S + timeout_s:g} s (startup {STARTUP_S:g} s + rendezvous timeout {timeout_s:g} s)"
            )


def _stop(context: ProcessContext, let_exit_s: float = 0.0) -> None:
    """Give the processes ``let_exit_s`` to exit, then SIGTERM, :data:`GRACE_S` more, SIGKILL; join them all."""
    for deadline, signal_them in ((let_exit_s, None), (GRACE_S, "terminate"), (None, "kill")):
        alive = [proc for proc in context.processes if proc.is_alive()]
        for proc in alive:
            if signal_them is not None:
                getattr(proc, signal_them)()
        until = None if deadline is None else time.monotonic() + deadline
        for proc in alive:
            proc.join(None if until is None else max(0.0, until - time.monotonic()))


def _describe(context: ProcessContext, first: int) -> str:
    """One line: every process that failed (deaths by a signal first: they are usually the cause)."""
    failed = [
        i for i, proc in enumerate(context.processes) if proc.exitcode not in (0, None, -signal.SIGTERM) or i == first
    ]
    failed.sort(key=lambda i: (not (context.processes[i].exitcode or 0) < 0, i != first, i))
    return f"distributed run failed: {'; '.join(_fate(context, i) for i in failed)}; the other processes were stopped"


def _fate(context: ProcessContext, index: int) -> str:
    code = context.processes[index].exitcode
    path = Path(context.error_files[index])
    if path.exists():
        with open(path, "rb") as fh:
            trace = pickle.load(fh)
        lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else "an error"
        return f"rank {index} raised {last[:300]}"
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"rank {index} was killed by {name}"
    return f"rank {index} exited with status {code}"
