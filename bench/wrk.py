"""wrk, the HTTP load generator: installed if missing, run, and its report parsed."""

import re
import shutil
import subprocess
from pathlib import Path

TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_ensure() -> None:
    """Install the Debian package if `wrk` is not on PATH (the benchmark runs as root)."""
    if shutil.which("wrk") is None:
        print("wrk is missing: installing the Debian package", flush=True)
        subprocess.run("apt-get update -qq && apt-get install -y -qq wrk", shell=True, check=True)


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * TO_MS[unit]


def wrk_run(
    url: str,
    *,
    headers: dict,
    duration: int,
    connections: int,
    threads: int = 2,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
) -> dict:
    """Requests/sec, p50 and p99 (ms), and the errors wrk counted, for one run against `url`.

    With a Lua `script` (given `script_args` after `--`), what it prints is returned
    too, line by line, as `script_output`: wrk's own report cannot say what a body held.
    """
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        # A slow page must count as slow, not as a timeout (wrk's default is 2 s).
        "--timeout",
        "30s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    non_2xx_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(rate[1]) if rate else 0.0,
        "p50_ms": _milliseconds(p50[1]) if p50 else None,
        "p99_ms": _milliseconds(p99[1]) if p99 else None,
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
        "non_2xx_3xx": int(non_2xx_3xx[1]) if non_2xx_3xx else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
        # wrk runs the script's done() after its own report, whose last line is Transfer/sec.
        "script_output": output.split("Transfer/sec:", 1)[-1].splitlines()[1:] if script else [],
    }
