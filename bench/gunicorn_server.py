"""A gunicorn server of the product for a benchmark: started on a free port, awaited, stopped."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
GUNICORN = PROJECT_DIR / ".venv" / "bin" / "gunicorn"
READY_TIMEOUT = 60.0  # seconds for a server to answer /api/health/


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "events_face.config.wsgi", "--bind", f"127.0.0.1:{port}", "-w", "2"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the benchmark, which stops the servers itself
        )
    return process, f"http://127.0.0.1:{port}"


def server_wait(process: subprocess.Popen, base: str, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/health/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} not ready after {READY_TIMEOUT:.0f} s:\n{log_path.read_text()[-3000:]}")


def server_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the master and its workers, nothing else
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
