"""What masking costs a log record, now that every encoding of every secret is looked for.

Every log record and every stored message passes through `SecretRegistry.redact`. This times it on
a typical runner line with 1, 10 and 100 registered secrets, for a line without any secret (the
common case) and with one, plus the one-off cost of registering them and building the pattern.

    python bench/redact.py [--records N]
"""

from __future__ import annotations

import argparse
import time
import uuid

import checkout  # noqa: F401  (this checkout first on sys.path)
from table import print_table

from filehost_tui.redact import SecretRegistry

LINE = (
    "upload 12 completed: holiday-2024.zip -> rapidgator: "
    "https://rapidgator.net/file/0123456789abcdef0123456789abcdef/holiday-2024.zip.html"
)


def per_record_us(registry: SecretRegistry, text: str, records: int) -> float:
    registry.redact(text)  # build the pattern outside the timing
    start = time.perf_counter()
    for _ in range(records):
        registry.redact(text)
    return (time.perf_counter() - start) / records * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    rows = []
    for count in (1, 10, 100):
        registry = SecretRegistry()
        secrets = [f"Key/{uuid.uuid4().hex}+x" for _ in range(count)]
        start = time.perf_counter()
        for secret in secrets:
            registry.register(secret)
        registry.redact("")
        build_ms = (time.perf_counter() - start) * 1e3
        clean = per_record_us(registry, LINE, args.records)
        hit = per_record_us(registry, f"{LINE} echoed {secrets[-1]}", args.records)
        rows.append((count, build_ms, clean, hit))
    print_table(
        f"SecretRegistry.redact on a {len(LINE)}-character line, {args.records} records",
        ["secrets", "register all + build ms", "µs/record (no secret)", "µs/record (one secret)"],
        rows,
    )


if __name__ == "__main__":
    main()
