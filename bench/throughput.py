"""Upload throughput: filehost-tui against the curl command, same file, same sink, same run.

Each round uploads a --size MiB random file to a loopback 0x0-protocol sink twice, in alternating
order: (a) `curl -F file=@FILE URL`, (b) the project's full path: `filehost-tui add` into a fresh
home, then `filehost-tui run --until-idle`. Then the same with --parallel uploads at once: that many
curl processes to that many sinks, against one `add FILE --host ...` to that many hosts (0x0 plus
0x0-like user specs) and one runner.

Speeds compared (MiB of the file per second):
- curl: file size / curl's own %{time_total};
- project: upload_metrics.bytes_per_s (the project's own measure: claim to link, no startup);
- end to end: file size / (add + run wall time), i.e. what a user waits, interpreter starts included.
For the parallel case the aggregate is total bytes over the span from the first transfer's start to
the last one's end, from each side's own timings. Every upload's bytes are CRC-checked at the sink.

    python bench/throughput.py [--size MiB] [--rounds N] [--parallel N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import checkout  # noqa: F401  (this checkout first on sys.path)
from datafiles import random_file
from homes import Measured, add_and_run, make_home, read_metrics, start_measured
from sink import Received, Sink
from table import median, mib, print_table


@dataclass(frozen=True)
class Result:
    """One side of one round: aggregate MiB/s by its own timing, end-to-end MiB/s, CPU s."""

    mib_s: float
    e2e_mib_s: float
    cpu_s: float


def check_received(records: list[Received], size: int, crc: int, count: int) -> None:
    good = [r for r in records if r.complete and r.file_bytes == size and r.crc32 == crc]
    if len(good) != count:
        raise RuntimeError(f"sink got {len(good)} intact uploads of {count}: {records}")


def curl_round(path: Path, sinks: list[Sink], size: int, crc: int) -> Result:
    for s in sinks:
        s.reset()
    fmt = "\n%{time_starttransfer} %{time_total}\n"
    children = [
        start_measured(["curl", "-sS", "-F", f"file=@{path}", "-w", fmt, f"{s.base_url}/"])
        for s in sinks
    ]
    done: list[Measured] = [c.wait() for c in children]
    spans = []
    for child, result in zip(children, done, strict=True):
        if result.returncode != 0:
            raise RuntimeError(f"curl exited {result.returncode}: {result.stderr}")
        total = float(result.stdout.split()[-1])
        spans.append((child.started, child.started + total))
    check_received([r for s in sinks for r in s.uploads], size, crc, len(sinks))
    # curl's own clock: from its start to the last byte of the reply, per process.
    span = max(e for _, e in spans) - min(b for b, _ in spans)
    wall = max(c.started + r.wall_s for c, r in zip(children, done, strict=True)) - min(
        c.started for c in children
    )
    nbytes = size * len(sinks)
    return Result(mib(nbytes) / span, mib(nbytes) / wall, sum(r.cpu_s for r in done))


def project_round(
    path: Path, sinks: list[Sink], size: int, crc: int, work: Path, tag: str
) -> Result:
    for s in sinks:
        s.reset()
    ids = ["0x0"] + [f"bench{i}" for i in range(2, len(sinks) + 1)]
    home = make_home(work / f"home-{tag}", {h: s.base_url for h, s in zip(ids, sinks, strict=True)})
    try:
        added, ran = add_and_run(home, [path], ids)
        metrics = read_metrics(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if len(metrics) != len(sinks) or any(m.status != "success" for m in metrics):
        raise RuntimeError(f"project uploads did not all succeed: {metrics}\n{ran.stdout}")
    check_received([r for s in sinks for r in s.uploads], size, crc, len(sinks))
    if len(metrics) == 1:
        speed = mib(metrics[0].bytes_per_s)
    else:
        first = min(m.finished_ts - m.duration_s for m in metrics)
        last = max(m.finished_ts for m in metrics)
        speed = mib(sum(m.bytes for m in metrics)) / (last - first)
    e2e = mib(size * len(sinks)) / (added.wall_s + ran.wall_s)
    return Result(speed, e2e, added.cpu_s + ran.cpu_s)


def run_rounds(args: argparse.Namespace, path: Path, crc: int, sinks: list[Sink], work: Path):
    size = args.size * 1024 * 1024
    rows: dict[str, list[tuple[int, Result, Result]]] = {"single": [], "parallel": []}
    for n in range(1, args.rounds + 1):
        for mode, use in (("single", sinks[:1]), ("parallel", sinks[: args.parallel])):
            if mode == "parallel" and args.parallel < 2:
                continue
            if n % 2:
                c = curl_round(path, use, size, crc)
                p = project_round(path, use, size, crc, work, f"{n}-{mode}")
            else:
                p = project_round(path, use, size, crc, work, f"{n}-{mode}")
                c = curl_round(path, use, size, crc)
            rows[mode].append((n, c, p))
            print(
                f"round {n} {mode:8}: curl {c.mib_s:7.1f} MiB/s  project {p.mib_s:7.1f} MiB/s"
                f"  ratio {p.mib_s / c.mib_s:.3f}",
                flush=True,
            )
    return rows


def report(rows, args: argparse.Namespace) -> None:
    headers = [
        "round", "curl MiB/s", "project MiB/s", "ratio p/c",
        "curl e2e MiB/s", "project e2e MiB/s", "e2e ratio", "curl CPU s", "project CPU s",
    ]  # fmt: skip
    for mode, label in (("single", "1 upload"), ("parallel", f"{args.parallel} uploads at once")):
        data = rows[mode]
        if not data:
            continue
        table = [
            [n, c.mib_s, p.mib_s, p.mib_s / c.mib_s, c.e2e_mib_s, p.e2e_mib_s,
             p.e2e_mib_s / c.e2e_mib_s, c.cpu_s, p.cpu_s]
            for n, c, p in data
        ]  # fmt: skip
        table.append(["median", *(median([r[i] for r in table]) for i in range(1, len(headers)))])
        print_table(f"Throughput, {label}, {args.size} MiB file each", headers, table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each mode (default 5)")
    parser.add_argument("--parallel", type=int, default=4, help="uploads at once (default 4)")
    parser.add_argument(
        "--workdir", type=Path, help="where the test file goes (default: a temp dir)"
    )
    args = parser.parse_args()
    if shutil.which("curl") is None:
        parser.error("curl is not installed; it is the baseline")
    work = Path(tempfile.mkdtemp(prefix="fht-bench-", dir=args.workdir))
    try:
        path = work / f"upload-{args.size}MiB.bin"
        crc = random_file(path, args.size * 1024 * 1024)
        sinks = [Sink() for _ in range(max(1, args.parallel))]
        for s in sinks:
            s.__enter__()
        try:
            rows = run_rounds(args, path, crc, sinks, work)
        finally:
            for s in sinks:
                s.__exit__(None, None, None)
        report(rows, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
