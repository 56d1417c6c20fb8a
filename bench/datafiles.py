"""Input files for the benchmarks: random (incompressible) files, sparse files, mixed folders."""

from __future__ import annotations

import os
import random
import zlib
from pathlib import Path

BLOCK = 8 * 1024 * 1024


def random_file(path: Path, size: int) -> int:
    """Write `size` random bytes to `path` (reused when it already has that size); its CRC32."""
    crc = 0
    if path.exists() and path.stat().st_size == size:
        with open(path, "rb") as fh:
            while block := fh.read(BLOCK):
                crc = zlib.crc32(block, crc)
        return crc
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(BLOCK, left))
            fh.write(block)
            crc = zlib.crc32(block, crc)
            left -= len(block)
    return crc


def sparse_file(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space (reads as zeros)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def mixed_folder(root: Path, total: int, seed: int = 7) -> tuple[int, int]:
    """A gallery-like folder of about `total` bytes: ~70% of the bytes in a few large files
    (16-128 MiB), the rest in many small ones (4-512 KiB) spread over subfolders.
    Returns (files, bytes). Contents are random, so compressing them gains nothing."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    pool = os.urandom(BLOCK)
    files = written = 0
    large_budget = int(total * 0.7)
    while written < large_budget:
        size = min(rng.randint(16, 128) * 1024 * 1024, large_budget - written)
        _fill(root / f"video-{files:03d}.bin", size, pool, rng)
        files, written = files + 1, written + size
    while written < total:
        size = min(rng.randint(4 * 1024, 512 * 1024), total - written)
        sub = root / f"album-{files // 200:02d}"
        sub.mkdir(exist_ok=True)
        _fill(sub / f"img-{files:05d}.jpg", size, pool, rng)
        files, written = files + 1, written + size
    return files, written


def _fill(path: Path, size: int, pool: bytes, rng: random.Random) -> None:
    """Random-looking bytes without calling urandom per file: slices of one random pool at
    random offsets (distinct files, still incompressible)."""
    with open(path, "wb") as fh:
        left = size
        while left:
            offset = rng.randrange(0, len(pool) // 2)
            n = min(left, len(pool) - offset)
            fh.write(pool[offset : offset + n])
            left -= n


def warm(path: Path) -> None:
    """Read a file once so the page cache holds it. The first read of a fresh sparse file costs
    the kernel ~4x more CPU than later ones (it fills the cache with zero pages), which would be
    charged to whichever program reads it first."""
    with open(path, "rb") as fh:
        while fh.read(BLOCK):
            pass
