"""Runs left behind by a killed ``journey`` command: found and marked failed before the next one.

``journey run`` executes its Dagster runs inside its own process. Killed (``kill -9``, a
reboot, an out-of-memory kill), that process can no longer report the end of its run, so
the instance would show it STARTED forever. Every run the command launches carries its
process id and host name in tags; before the next run starts, each such run still
NOT_STARTED, STARTING or STARTED whose process no longer exists on this host is reported
failed, with the reason, through the instance's run-status API. Runs launched by the UI or
the daemon have no such tags and are left to Dagster's own run monitoring.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

PID_TAG = "journey/pid"
HOST_TAG = "journey/host"
_UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def process_tags() -> dict[str, str]:
    """The tags that name the process running a run (added to every run the command launches)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run of a ``journey`` process that is gone; their ids."""
    host = socket.gethostname()
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED, tags={HOST_TAG: host})):
        pid_text = run.tags.get(PID_TAG, "")
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"journey process {pid_text} on {host} ended without finishing this run (killed?); "
                "marked failed by the next journey command"
            ),
        )
        failed.append(run.run_id)
    return failed
