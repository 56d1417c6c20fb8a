"""`stats`: what the metrics store says about speed and reliability per host."""

from __future__ import annotations

import argparse
import json

from filehost_tui.context import Context
from filehost_tui.units import human_size, human_speed


def cmd_stats(ctx: Context, args: argparse.Namespace) -> int:
    stats = ctx.metrics.stats(args.period)
    if args.json:
        total = stats.pop("total")
        # hosts under their own key: a user host spec may be called "period" or "total"
        hosts = {h: s.as_dict() for h, s in stats.items()}
        print(json.dumps({"period": args.period, "hosts": hosts, "total": total.as_dict()}))
        return 0
    print(
        f"{'host':<12} {'files':>6} {'failed':>6} {'bytes':>11} {'avg':>11} {'peak':>11} {'ok%':>6}"
    )
    for host, s in sorted(stats.items(), key=lambda kv: (kv[0] == "total", kv[0])):
        rate = "-" if s.success_rate is None else f"{100 * s.success_rate:.0f}%"
        print(
            f"{host:<12} {s.files:>6} {s.failed:>6} {human_size(s.bytes):>11} "
            f"{human_speed(s.avg_bytes_per_s):>11} {human_speed(s.peak_bytes_per_s):>11} {rate:>6}"
        )
    return 0
