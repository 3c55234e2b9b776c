"""Figures of a soak run (throughput and latency per endpoint, outbox lag) and its text report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.scale_out.load import EXPECTED, LOG_IN, SIGN_UP, Sample


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def endpoint_figures(samples: list[Sample], seconds: float) -> list[dict[str, Any]]:
    """Per endpoint, in the load's own order: requests, per second, p50/p99/max in ms, statuses."""
    figures = []
    for endpoint in [*EXPECTED, "all"]:
        chosen = samples if endpoint == "all" else [s for s in samples if s.endpoint == endpoint]
        if not chosen:
            continue
        latencies = [sample.seconds * 1000 for sample in chosen if sample.status is not None]
        statuses = Counter(str(sample.status or "no answer") for sample in chosen)
        figures.append({
            "endpoint": endpoint,
            "requests": len(chosen),
            "per_second": len(chosen) / seconds,
            "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": max(latencies, default=None),
            "statuses": dict(sorted(statuses.items())),
        })  # fmt: skip
    return figures


def per_second(samples: list[Sample], seconds: float) -> dict[str, list[int]]:
    """Per second of the load: requests started, sign-ups and logins started (each hashes a
    password), registrations answered 201 (when asked), and failures (when they failed: a
    request that waited in a backlog fails when it is dropped)."""
    buckets = int(seconds) + 1
    series = {
        name: [0] * buckets for name in ("requests", "sign_ups_and_logins", "registrations", "failures")
    }
    for sample in samples:
        second = min(int(sample.started), buckets - 1)
        series["requests"][second] += 1
        if sample.endpoint in (SIGN_UP, LOG_IN):
            series["sign_ups_and_logins"][second] += 1
        if sample.status == 201 and "register/" in sample.endpoint:
            series["registrations"][second] += 1
        if sample.failed:
            series["failures"][min(int(sample.started + sample.seconds), buckets - 1)] += 1
    return series


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def report_text(result: dict[str, Any]) -> str:
    """The run as Markdown: the endpoint table, the outbox lag, the faults, the proofs."""
    plan, load, outbox, sync = result["plan"], result["load"], result["outbox"], result["sync"]
    restart_failures = result["proofs"]["answers"]["details"]["failed_during_restart"]
    unseen = result["proofs"]["bookings"]["details"]
    service_answers = ", ".join(
        f"{status} x{count:,}" for status, count in sorted(outbox["emulator_answers"].items())
    )
    lines = [
        f"{plan['clients']} clients for {load['seconds']:.0f} s against {plan['web_servers']} gunicorn servers "
        f"(2 workers each), {plan['workers']} outbox workers, `sync_events --watch {plan['sync_watch_seconds']:g}`; "
        f"PostgreSQL {result['postgresql']}{' behind PgBouncer' if plan.get('database_direct_url') else ''}, Redis cache; {result['cpus']} CPUs (load average "
        f"{result['load_average_at_start']:.1f} before the start); started {result['started_at']}.",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | max ms | answers |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in load["endpoints"]:
        answers = ", ".join(f"{status} x{count:,}" for status, count in row["statuses"].items())
        name = f"**{row['endpoint']}**" if row["endpoint"] == "all" else f"`{row['endpoint']}`"
        lines.append(f"| {name} | {row['requests']:,} | {row['per_second']:,.1f} | {_ms(row['p50_ms'])} | "
                     f"{_ms(row['p99_ms'])} | {_ms(row['max_ms'])} | {answers} |")  # fmt: skip
    cpu = load.get("cpu_seconds") or {}
    if cpu:
        lines += ["", f"CPU seconds during the load ({load['seconds']:.0f} s, {result['cpus']} CPUs: "
                  f"{load['seconds'] * result['cpus']:.0f} CPU seconds in all, shared with the machine's other work): "
                  + ", ".join(f"{part} {seconds:.1f}" for part, seconds in cpu.items())]  # fmt: skip
    lines += [
        "",
        f"Outbox lag, registration created to notification accepted ({outbox['registrations']:,} registrations; "
        f"the service answered {service_answers}): p50 {_ms(outbox['lag_p50_ms'])} ms, "
        f"p99 {_ms(outbox['lag_p99_ms'])} ms, max {_ms(outbox['lag_max_ms'])} ms; the outbox was empty "
        f"{outbox['drained_after_load_seconds']:.1f} s after the load stopped.",
        f"Sync: {sync['mutations']:,} provider changes during the load; runs {sync['runs']}; "
        f"{sync['created']:,} events created, {sync['updated']:,} updated; "
        + (f"the first sync after the last change ended {sync['converged_after_seconds']:.1f} s after it."
           if sync["converged_after_seconds"] is not None else "no sync succeeded after the last change."),
        "",
        "Faults (seconds since the load started):",
        "",
        *[f"- {event['at']:.1f} s: {event['what']}" for event in result["timeline"]],
        "",
        "Answers lost to the web restart (5xx or none, from the restarted server): "
        + (", ".join(f"{what} x{count}" for what, count in restart_failures.items()) or "none")
        + f"; registrations stored whose request got no answer: {unseen['stored_without_a_201_seen_count']}",
        *[f"  - {registration}: {'; '.join(answers)}"
          for registration, answers in unseen["stored_without_a_201_seen"].items()],
        "",
        "Proofs:",
        "",
        *[f"- {'PASS' if proof['ok'] else 'FAIL'} {name}: {proof['summary']}"
          for name, proof in result["proofs"].items()],
    ]  # fmt: skip
    return "\n".join(lines)
