"""Wall time and peak memory against customers, one line per tool, as PNGs (runs in the peers venv).

    .venv-peers/bin/python benchmarks/peers/plot.py --data series.json --out docs/benchmarks

`series.json` is what benchmarks.report's plot_series returns: {tool label: [{customers, wall,
memory}, ...]}. matplotlib lives in the peers venv only, never in the connector's dependencies.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

CHARTS = (
    ("wall", "Wall time of one initial sync", "seconds"),
    ("memory", "Peak memory of the sync's process", "MiB (peak RSS)"),
)


def chart(series: dict[str, list[dict[str, Any]]], metric: str, title: str, unit: str, out: Path) -> None:
    figure, axes = plt.subplots(figsize=(8, 4.8), dpi=110)
    for name, points in series.items():
        shown = sorted((p["customers"], p[metric]) for p in points if p.get(metric) is not None)
        if shown:
            axes.plot([c for c, _ in shown], [v for _, v in shown], marker="o", label=name.replace("`", ""))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("customers in Oracle (log)")
    axes.set_ylabel(f"{unit} (log)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, metadata={"Software": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    series = json.loads(args.data.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    for metric, title, unit in CHARTS:
        chart(series, metric, title, unit, args.out / f"{metric}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
