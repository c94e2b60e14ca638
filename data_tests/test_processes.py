"""The command's helper processes (GX worker, a large extract) end when the command is killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dagster_project.lib.processes import end_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be read


def _middle(ends_with_parent: bool, pids: multiprocessing.Queue) -> None:
    """A process like the `journey` command: it starts a pool worker, then waits."""
    options = {"initializer": end_with_parent, "initargs": (os.getpid(),)} if ends_with_parent else {}
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), **options)
    pids.put(pool.submit(os.getpid).result())
    time.sleep(120)


def _worker_after_killing_its_parent(ends_with_parent: bool) -> int:
    context = multiprocessing.get_context("spawn")
    pids = context.Queue()
    middle = context.Process(target=_middle, args=(ends_with_parent, pids))
    middle.start()
    worker = pids.get(timeout=120)
    assert _alive(worker)
    os.kill(middle.pid, signal.SIGKILL)
    middle.join()
    return worker


def test_a_helper_process_ends_when_its_parent_is_killed() -> None:
    worker = _worker_after_killing_its_parent(ends_with_parent=True)
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def test_without_it_the_worker_would_outlive_its_parent() -> None:
    worker = _worker_after_killing_its_parent(ends_with_parent=False)
    time.sleep(1)
    try:
        assert _alive(worker)  # what end_with_parent prevents
    finally:
        os.kill(worker, signal.SIGKILL)


def test_a_helper_whose_parent_is_already_gone_exits_at_once() -> None:
    # in a process of its own: the call also asks the kernel to kill its caller with its parent
    process = multiprocessing.get_context("spawn").Process(target=end_with_parent, args=(os.getpid() + 1_000_000,))
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 1  # the "parent" named is not the process's parent: it exits
