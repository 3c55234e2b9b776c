"""A real PgBouncer for tests: Debian's `pgbouncer`, in transaction pooling mode, on a
free port, in front of the PostgreSQL server the test database lives on.

Its pool is far smaller than the number of clients the tests open (`POOL_SIZE`
server connections per database and user), so a transaction waits for a server
session and the next one of the same client may well get another: exactly what a
fleet of web hosts sees. Its configuration and log live in a temporary folder of
their own; `stop()` ends it (and with it every server connection it held).

It needs the `pgbouncer` binary (`apt-get install pgbouncer`; .ci/run installs it).
PgBouncer refuses to run as root: as root it is started with `-u postgres`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from events_face.launcher import free_port, port_wait
from tests.support.processes import test_database_url

POOL_SIZE = 2  # server connections per (database, user): far fewer than the tests' clients
BINARY_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")


def pgbouncer_binary() -> str | None:
    for candidate in BINARY_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@dataclass
class PgBouncer:
    process: subprocess.Popen
    port: int
    folder: Path

    def url(self, database_url: str) -> str:
        """`database_url` (postgres://user@host:port/name) routed through this PgBouncer."""
        scheme, rest = database_url.split("://", 1)
        credentials, _, location = rest.rpartition("@")
        name = location.split("/", 1)[1]
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "safe shutdown": after the transactions in hand
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def pgbouncer_start(*, pool_size: int = POOL_SIZE) -> PgBouncer:
    """Start PgBouncer in front of the test database's server; return once it listens."""
    binary = pgbouncer_binary()
    if binary is None:
        raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
    db = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="events-face-pgbouncer-"))
    folder.chmod(0o755)  # readable by the postgres user PgBouncer switches to as root
    port = free_port()
    user = db["USER"] or "postgres"
    # The local server trusts its users on 127.0.0.1 (pg_hba.conf), so PgBouncer does too:
    # `trust` still wants the user named in auth_file, with any password.
    (folder / "users.txt").write_text(f'"{user}" "{db.get("PASSWORD") or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={db["HOST"] or "127.0.0.1"} port={db["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 1000
; Clients wait for a server connection rather than fail: the pool is small on purpose.
query_wait_timeout = 120
admin_users = {user}
"""
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    command = [binary, *(["-u", "postgres"] if os.geteuid() == 0 else []), str(folder / "pgbouncer.ini")]
    with (folder / "pgbouncer.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    bouncer = PgBouncer(process=process, port=port, folder=folder)
    try:
        port_wait(port, process=process)
    except Exception:
        log_text = bouncer.log()
        bouncer.stop()
        raise RuntimeError(f"pgbouncer did not start:\n{log_text[-3000:]}") from None
    return bouncer


def pooled_database_urls(bouncer: PgBouncer) -> dict[str, str]:
    """The environment of a process behind `bouncer`: DATABASE_URL through it, the
    direct route (DATABASE_DIRECT_URL) straight to the test database."""
    direct = test_database_url()
    return {"DATABASE_URL": bouncer.url(direct), "DATABASE_DIRECT_URL": direct}
