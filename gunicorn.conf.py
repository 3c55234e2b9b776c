"""gunicorn settings for `make serve`, the production web server.

Every value comes from the environment, with defaults for one machine; all of
them are listed in `.env.example`. gunicorn reads this file itself
(`gunicorn -c gunicorn.conf.py`), before Django is imported.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

# The rules gunicorn shares with the Django settings (booleans, LOG_FORMAT, WEB_CONCURRENCY,
# TRUSTED_PROXIES, SECRET_KEY) have one home, Django-free; it also reads `.env`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_face.config import environment  # noqa: E402

_whole_number = environment.whole_number

# Refuse at once, in one line, what every worker would refuse (config/environment.py).
environment.secret_key()

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_whole_number('PORT', 8000, minimum=1)}"
# Two per core plus one by default (environment.web_processes; the settings' system
# check events_face.E004 reads the same number).
workers = environment.web_processes()
# More than 1 switches to gthread workers: each thread keeps its own database connection.
threads = _whole_number("GUNICORN_THREADS", 1, minimum=1)
wsgi_app = "events_face.config.wsgi:application"

# Which peers may set X-Forwarded-Proto (and so make a request HTTPS): TRUSTED_PROXIES,
# the same addresses the Django settings believe. None by default: gunicorn's own
# default, 127.0.0.1, would let any local client claim HTTPS. (The deprecated
# USE_X_FORWARDED_PROTO=true without TRUSTED_PROXIES keeps the old local proxy.)
forwarded_allow_ips = ",".join(
    environment.trusted_proxies()
    or (["127.0.0.1", "::1"] if environment.boolean("USE_X_FORWARDED_PROTO", default=False) else [])
)

# A request that takes longer than this kills its worker (the master starts another); 0: never.
timeout = _whole_number("GUNICORN_TIMEOUT", 30, minimum=0)
# On SIGTERM (a deploy), workers finish the requests in hand for up to this long.
graceful_timeout = _whole_number("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=0)
# Behind a load balancer that reuses connections; below its own idle timeout.
keepalive = _whole_number("GUNICORN_KEEPALIVE", 5, minimum=0)
# Restart a worker after this many requests (0: never), jittered so they do not all restart at once.
max_requests = _whole_number("GUNICORN_MAX_REQUESTS", 0, minimum=0)
max_requests_jitter = max_requests // 10

# One access-log line per request on stdout, with the request id the service echoes. The
# address (%(h)s) is the client's: behind TRUSTED_PROXIES, core/proxies.py puts it in REMOTE_ADDR.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
# Calendar feed tokens (secret URLs) are redacted from every access-log line.
logger_class = "events_face.monitoring.log_redaction.RedactingGunicornLogger"
errorlog = "-"
# gunicorn's runtime control socket is one fixed path per user, so a second
# server on the machine would take it over; nothing here uses it.
control_socket_disable = True


if environment.log_format() == "json":
    # gunicorn's own lines (start-up, worker exits, the access log) in the same
    # JSON shape as the service's, so one log pipeline reads every line.
    logconfig_dict = {
        "formatters": {
            "json": {"()": "events_face.monitoring.gunicorn_logs.json_formatter"},
            "access_json": {"()": "events_face.monitoring.gunicorn_logs.AccessJsonFormatter"},
        },
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "access_console": (
                {"class": "logging.StreamHandler", "formatter": "access_json", "stream": "ext://sys.stdout"}
                if accesslog == "-"
                else {"class": "logging.FileHandler", "formatter": "access_json", "filename": accesslog}
            ),
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access_console"], "propagate": False},
        },
    }


def on_starting(server):
    """Give this server's workers one folder for their shared Prometheus metrics.

    prometheus-client's multiprocess mode has each worker write its samples to
    files in PROMETHEUS_MULTIPROC_DIR, and /api/metrics/ adds them up. The folder
    must hold no samples when the server starts, or the dead workers of an earlier
    run would still count; without GUNICORN_METRICS_DIR, each server gets a private
    one. Only the sample files (`*.db`) are removed: the folder is the operator's,
    and may hold anything else.

    The folder is named by GUNICORN_METRICS_DIR, not by PROMETHEUS_MULTIPROC_DIR
    itself: prometheus-client turns multiprocess mode on in any process whose
    environment holds that name, even empty, and every manage.py process copies
    `.env` into its environment. Set there, it would make `worker` and
    `sync_events` write their samples into the web's folder (or, empty, into the
    working directory). Only gunicorn's workers get it, from here.
    """
    folder = os.environ.get("GUNICORN_METRICS_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for samples in Path(folder).glob("*.db"):
            samples.unlink(missing_ok=True)
    else:
        folder = tempfile.mkdtemp(prefix="events-face-metrics-")
        server._private_metrics_dir = folder
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    server.log.info("Prometheus multiprocess metrics in %s", folder)
    if not environment.debug() and workers > 1 and environment.rate_limit_counters_per_process():
        # The rule of the system check events_face.E004 (`manage.py check --deploy`).
        server.log.warning(
            "Rate limits are counted per worker: %d workers let %d times each limit through. "
            "Set CACHE_URL (or THROTTLE_CACHE_URL) to a shared cache such as redis://127.0.0.1:6379/0, "
            "or WEB_CONCURRENCY=1 (events_face.E004).",
            workers,
            workers,
        )


def child_exit(server, worker):
    """A dead worker's gauges stop counting (its counters and histograms still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    private = getattr(server, "_private_metrics_dir", None)
    if private:
        shutil.rmtree(private, ignore_errors=True)
