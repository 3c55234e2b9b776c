"""gunicorn settings for `make serve`, the production web server.

Every value comes from the environment, with defaults for one machine; all of
them are listed in `.env.example`. gunicorn reads this file itself
(`gunicorn -c gunicorn.conf.py`), before Django is imported.
"""

import os
import shutil
import tempfile
from pathlib import Path

import environ

# The same `.env` the Django settings read; variables already set win.
environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or 8000}"
# The usual rule for a synchronous worker that waits on the database: two per
# core plus one. WEB_CONCURRENCY is the name hosting platforms set.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
# More than 1 switches to gthread workers: each thread keeps its own database connection.
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
wsgi_app = "events_face.config.wsgi:application"

# A request that takes longer than this kills its worker (the master starts another).
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On SIGTERM (a deploy), workers finish the requests in hand for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
# Behind a load balancer that reuses connections; below its own idle timeout.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)
# Restart a worker after this many requests (0: never), jittered so they do not all restart at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 0)
max_requests_jitter = max_requests // 10

# One access-log line per request on stdout, with the request id the service echoes.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
# gunicorn's runtime control socket is one fixed path per user, so a second
# server on the machine would take it over; nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Give this server's workers one folder for their shared Prometheus metrics.

    prometheus-client's multiprocess mode has each worker write its samples to
    files in PROMETHEUS_MULTIPROC_DIR, and /api/metrics/ adds them up. The folder
    must be empty when the server starts, or the dead workers of an earlier run
    would still count; without GUNICORN_METRICS_DIR, each server gets a private one.

    The folder is named by GUNICORN_METRICS_DIR, not by PROMETHEUS_MULTIPROC_DIR
    itself: prometheus-client turns multiprocess mode on in any process whose
    environment holds that name, even empty, and every manage.py process copies
    `.env` into its environment. Set there, it would make `worker` and
    `sync_events` write their samples into the web's folder (or, empty, into the
    working directory). Only gunicorn's workers get it, from here.
    """
    folder = os.environ.get("GUNICORN_METRICS_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)
    else:
        folder = tempfile.mkdtemp(prefix="events-face-metrics-")
        server._private_metrics_dir = folder
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    server.log.info("Prometheus multiprocess metrics in %s", folder)


def child_exit(server, worker):
    """A dead worker's gauges stop counting (its counters and histograms still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    private = getattr(server, "_private_metrics_dir", None)
    if private:
        shutil.rmtree(private, ignore_errors=True)
