"""Helper processes that end with the process that started them.

The ``journey`` command starts processes of its own with ``multiprocessing`` (the GX
worker, the extract of a large window). Killed with ``kill -9`` or by the out-of-memory
killer, a parent cannot stop them: a pool worker waits on a pipe it holds both ends of, so
it would live on, and an orphaned extract would keep writing to the warehouse and hold its
lock against the next run. On Linux each such process asks the kernel to kill it when its
parent ends (``prctl(PR_SET_PDEATHSIG)``, a public system call); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def end_with_parent(parent_pid: int) -> None:
    """Ask to be killed when the process ``parent_pid`` (the one that started this one) ends.

    A pool's ``initializer``: pass ``os.getpid()`` of the starting process in ``initargs``.
    If that process has already ended, exit now.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no usable C library: as on other systems
            return
    if os.getppid() != parent_pid:  # the parent ended before the request above took effect
        raise SystemExit(1)
