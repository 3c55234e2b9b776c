"""The production web server as a test runs it: `gunicorn -c gunicorn.conf.py` on a free
port, on the test database, its output in files; stopped with its workers."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import PROJECT_DIR, command_env, free_port, wait_for_port

GUNICORN = Path(sys.executable).parent / "gunicorn"


@dataclass
class GunicornServer:
    process: subprocess.Popen
    base_url: str
    # gunicorn's access log (stdout) and everything else: its own log and Django's (stderr).
    access_log: Path
    error_log: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the master and its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def gunicorn_start(log_dir: Path, **env: str) -> GunicornServer:
    """Start gunicorn with `env` added to a test-database environment; return once it listens."""
    port = free_port()
    access_log, error_log = log_dir / "gunicorn-access.log", log_dir / "gunicorn-error.log"
    with access_log.open("wb") as stdout, error_log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py"],
            cwd=PROJECT_DIR,
            env=command_env(GUNICORN_BIND=f"127.0.0.1:{port}", **env),
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        wait_for_port(port, process=process, timeout=60)
    except Exception:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise RuntimeError(f"gunicorn did not start:\n{error_log.read_text()[-3000:]}") from None
    return GunicornServer(
        process=process, base_url=f"http://127.0.0.1:{port}", access_log=access_log, error_log=error_log
    )
