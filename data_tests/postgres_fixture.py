"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on a free loopback port.

Uses Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, package ``postgresql``;
``.ci/run`` installs it when missing). The cluster trusts loopback connections of its own
superuser ``journey`` (no password anywhere), listens on 127.0.0.1 only, has no Unix
socket, and is stopped and deleted at the end of the session. PostgreSQL refuses to run
as root: under root the server runs as the ``postgres`` user the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder (with initdb and pg_ctl), or None."""
    found = [p for p in Path("/").glob(_BIN_GLOB.lstrip("/")) if (p / "pg_ctl").is_file() and (p / "initdb").is_file()]
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(uid: int | None, gid: int | None):
    if uid is None:
        return None

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string to a fresh, empty PostgreSQL server (database ``postgres``)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries not found under {_BIN_GLOB} (apt-get install postgresql)")
    uid = gid = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        uid, gid = account.pw_uid, account.pw_gid
    root = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    data, log = root / "data", root / "server.log"
    if uid is not None:
        os.chown(root, uid, gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    run = dict(check=True, capture_output=True, text=True, env=env, cwd=root, preexec_fn=_as_user(uid, gid))
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
    try:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "journey", "--auth=trust", "-E", "UTF8", "--no-sync"],
            **run,
        )
        subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], **run)
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr}\n{server_log}") from exc
    try:
        yield f"host=127.0.0.1 port={port} user=journey dbname=postgres"
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], **{**run, "check": False}
        )
        shutil.rmtree(root, ignore_errors=True)
