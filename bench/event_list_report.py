"""Tables and chart for bench/event_list_http.py, from its raw results.

    .venv/bin/python bench/event_list_report.py     # re-print and redraw from var/bench_event_list_http.json

Every ratio compares figures from the same round: a variant with the floor
measured just before it, and a size with another size's page 1 in that round.
"""

import json
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

VARIANT_LABELS = {
    "floor": "floor: bare Django view, same bytes",
    "page1_warm": "page 1, cache on (warm)",
    "page1_cold": "page 1, cache off (cold)",
    "deep_warm": "page 70% deep, warm",
    "deep_cold": "page 70% deep, cold",
    "search_warm": "`name=` rare word, warm",
    "search_cold": "`name=` rare word, cold",
    "not_modified": "page 1 with If-None-Match (304)",
}
DATABASE_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# The targets: shares of the floor, and how much more a page may cost at the largest size.
WARM_TARGET, COLD_TARGET, GROWTH_TARGET = 0.60, 0.35, 1.5


def size_label(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:g}M"
    return f"{size / 1000:g}k" if size >= 1000 else str(size)


def _verdict(value: str, met: bool) -> str:
    return f"{value} met" if met else f"{value} **missed**"


def report_markdown(results: dict) -> str:
    args, datasets = results["arguments"], results["datasets"]
    index = {(m["round"], m["database"], m["size"], m["variant"]): m for m in results["measurements"]}
    rounds = range(1, args["rounds"] + 1)
    lines = [
        f"wrk -t2 -c{args['connections']} -d{args['duration']}s per figure, {args['rounds']} interleaved "
        f"round(s), page size {results['page_size']}, gunicorn.conf.py with WEB_CONCURRENCY=2 (sync workers), {results['cpus']} CPUs, "
        f"started {results['started_at']}. Ratios compare figures of the same round."
    ]

    for dataset in datasets:
        database, size, data = dataset["database"], dataset["size"], dataset["data"]
        lines += [
            "",
            f"### {DATABASE_LABELS[database]}, {size:,} events ({data['open_events']:,} in the default "
            f"list; `name={data['search']}` matches {data['search_matches']:,} of them)",
            "",
            "| variant |" + "".join(f" r{r} req/s | r{r} p50 / p99 ms | r{r} of floor |" for r in rounds),
            "|---|" + "---:|---:|---:|" * len(rounds),
        ]
        for key, label in VARIANT_LABELS.items():
            cells = []
            for r in rounds:
                m = index.get((r, database, size, key))
                if m is None:
                    cells += ["n/a"] * 3
                    continue
                errors = m["non_2xx_3xx"] + m["socket_errors"]
                cells += [
                    f"{m['rps']:,.0f}" + (f" ({errors:,} errors)" if errors else ""),
                    f"{m['p50_ms'] or 0:.1f} / {m['p99_ms'] or 0:.1f}",
                    f"{m['of_floor']:.0%}",
                ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += [""] + [f"- {note}" for note in dataset["notes"]]

    by_database = {}
    for dataset in datasets:
        by_database.setdefault(dataset["database"], []).append(dataset["size"])
    growth = {}  # (database, key, round) -> cost at the largest size / page 1 at the smallest
    if any(len(sizes) > 1 for sizes in by_database.values()):
        lines += [
            "",
            f"### Cost growth, cold: page 1 at the smallest size against each page at the largest "
            f"(target ≤ {GROWTH_TARGET}x)",
            "",
            "| database | page | round | page 1 at small, req/s | page at large, req/s | cost growth "
            "| floor-adjusted |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for database, sizes in by_database.items():
            small, large = min(sizes), max(sizes)
            for key in ("page1_cold", "deep_cold"):
                for r in rounds:
                    ref, far = (
                        index.get((r, database, small, "page1_cold")),
                        index.get((r, database, large, key)),
                    )
                    if not (ref and far and far["rps"] and far["of_floor"]):
                        continue
                    growth[database, key, r] = ref["rps"] / far["rps"]
                    lines.append(
                        f"| {DATABASE_LABELS[database]} | {VARIANT_LABELS[key]} | {r} | {ref['rps']:,.0f} at "
                        f"{size_label(small)} | {far['rps']:,.0f} at {size_label(large)} | "
                        f"{growth[database, key, r]:.2f}x | {ref['of_floor'] / far['of_floor']:.2f}x |"
                    )

    lines += [
        "",
        "### Targets (issue 18), per round",
        "",
        "| target | database | events |" + "".join(f" round {r} |" for r in rounds),
        "|---|---|---|" + "---|" * len(rounds),
    ]
    all_met = total = 0

    def row(target: str, database: str, events: str, cells: list) -> None:
        nonlocal all_met, total
        total += 1
        all_met += all(cell.endswith(" met") for cell in cells)
        lines.append(f"| {target} | {DATABASE_LABELS[database]} | {events} | " + " | ".join(cells) + " |")

    for dataset in datasets:
        database, size = dataset["database"], dataset["size"]
        for key, share in (("page1_warm", WARM_TARGET), ("page1_cold", COLD_TARGET)):
            cells = [
                _verdict(f"{m['of_floor']:.1%}", m["of_floor"] >= share) if m else "n/a"
                for m in (index.get((r, database, size, key)) for r in rounds)
            ]
            row(f"{VARIANT_LABELS[key]} ≥ {share:.0%} of the floor", database, f"{size:,}", cells)
        cells = []
        for r in rounds:
            conditional, warm = (
                index.get((r, database, size, "not_modified")),
                index.get((r, database, size, "page1_warm")),
            )
            ratio = conditional["rps"] / warm["rps"] if conditional and warm and warm["rps"] else None
            cells.append(_verdict(f"{ratio:.2f}x warm", ratio >= 1) if ratio is not None else "n/a")
        row("304 at ≥ the warm page 1 rate", database, f"{size:,}", cells)
    for database, sizes in by_database.items():
        if len(sizes) > 1:
            for key in ("page1_cold", "deep_cold"):
                cells = [
                    _verdict(f"{growth[database, key, r]:.2f}x", growth[database, key, r] <= GROWTH_TARGET)
                    if (database, key, r) in growth
                    else "n/a"
                    for r in rounds
                ]
                row(
                    f"{VARIANT_LABELS[key]} at {size_label(max(sizes))} ≤ {GROWTH_TARGET}x page 1 at "
                    f"{size_label(min(sizes))}",
                    database,
                    f"{size_label(max(sizes))}",
                    cells,
                )
    lines += ["", f"Met in every round: {all_met} of {total} targets.", ""]
    return "\n".join(lines)


def chart_draw(results: dict, path: Path) -> None:
    """Bars: req/s as a share of the same round's floor, per variant, grouped by database and size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(d["database"], d["size"]) for d in results["datasets"]]
    keys = [
        k for k in VARIANT_LABELS if k != "floor" and any(m["variant"] == k for m in results["measurements"])
    ]
    figure, axes = plt.subplots(figsize=(12, 5.5))
    width = 0.8 / max(len(keys), 1)
    for i, key in enumerate(keys):
        shares = [
            [
                m["of_floor"] * 100
                for m in results["measurements"]
                if (m["database"], m["size"], m["variant"]) == (*group, key)
            ]
            for group in groups
        ]
        means = [sum(s) / len(s) if s else 0 for s in shares]
        spread = [
            [mean - min(s, default=0) for mean, s in zip(means, shares, strict=True)],
            [max(s, default=0) - mean for mean, s in zip(means, shares, strict=True)],
        ]
        positions = [g - 0.4 + width * (i + 0.5) for g in range(len(groups))]
        axes.bar(positions, means, width, yerr=spread, capsize=2, label=VARIANT_LABELS[key].replace("`", ""))
    for share, name, style in ((WARM_TARGET, "warm target", "--"), (COLD_TARGET, "cold target", ":")):
        axes.axhline(share * 100, color="grey", linestyle=style, linewidth=1)
        axes.text(-0.45, share * 100 + 1, name, fontsize=8, color="grey")
    axes.set_ylim(0, max(105, axes.get_ylim()[1]))
    axes.set_xticks(
        range(len(groups)), [f"{DATABASE_LABELS[db]}\n{size_label(size)} events" for db, size in groups]
    )
    axes.set_ylabel("req/s, % of the floor in the same round")
    args = results["arguments"]
    axes.set_title(
        f"GET /api/events/ (page size {results['page_size']}) against a bare Django view: "
        f"wrk -c{args['connections']} {args['duration']} s, mean of {args['rounds']} round(s), "
        f"bars span the rounds",
        fontsize=10,
    )
    axes.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    saved = json.loads((PROJECT_DIR / "var" / "bench_event_list_http.json").read_text())
    print(report_markdown(saved))
    chart_draw(saved, PROJECT_DIR / "docs" / "img" / "event_list_http.png")
    sys.exit(0)
