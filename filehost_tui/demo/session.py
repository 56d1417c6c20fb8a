"""`filehost-tui demo`: fake hosts on loopback, sample files, a queue, and the real engine.

The demo keeps its own home under the cache dir, so it never touches the user's queue, and its
config disables every host but the demo ones, so nothing can reach a real host.

At its own pace (the default) it lasts about four minutes, so every key can be tried: the fake hosts
throttle each upload to a real host's speed, a large sparse file keeps one upload running long
enough to pause, and in the TUI one upload fails for good (its host answers without a link) so `r`
can send it again. gofile answers 503 twice in both paces, so an automatic retry shows. `--fast`
keeps the quick pace for scripts and tests: two small items, done in seconds.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from filehost_tui.config import env_key, load_config
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.errors import UserError
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths

DEMO_KEY = "demo-api-key"
DEMO_HOSTS = {"catbox": "catbox", "0x0": "0x0", "pixeldrain": "pixeldrain", "gofile": "gofile"}
RETRYING_HOST = "gofile"
"""Answers its first two uploads with 503: the automatic retry shows."""
FAILING_HOST = "0x0"
"""At its own pace in the TUI, answers one upload without a link: it fails, and `r` retries it."""
KiB, MiB = 1024, 1024 * 1024
FAST_SPEED = 3 * MiB
"""--fast: the client's cap per host, so progress is visible on a fast loopback."""
THROTTLE = {"catbox": 256 * KiB, "0x0": 192 * KiB, "pixeldrain": 512 * KiB, "gofile": 384 * KiB}
"""Own pace: what each fake host reads per upload per second (a connection's speed)."""
BIG_FILE_SIZE = 96 * MiB
"""The upload to pause: over three minutes at pixeldrain's throttle. Sparse: it costs no disk."""


@dataclass
class DemoSession:
    paths: AppPaths
    fakes: dict[str, FakeHost]
    batches: list[tuple[list[Path], list[str]]]
    """What to queue: (paths, host ids), in order."""

    def queue(self, queue: QueueStore) -> list[int]:
        return [i for paths, hosts in self.batches for i in queue.add(paths, hosts)]


def _gallery_and_clip(root: Path, rng: random.Random) -> tuple[Path, Path]:
    """A small gallery folder and a single larger file, made of seeded random bytes."""
    gallery = root / "Holiday gallery"
    (gallery / "raw").mkdir(parents=True)
    for n in range(8):
        (gallery / f"IMG_{n:04}.jpg").write_bytes(rng.randbytes(rng.randint(300_000, 1_200_000)))
    for n in range(3):
        (gallery / "raw" / f"IMG_{n:04}.cr2").write_bytes(rng.randbytes(1_500_000))
    video = root / "clip.mp4"
    video.write_bytes(rng.randbytes(9_000_000))
    return gallery, video


def _batches(root: Path, fast: bool) -> list[tuple[list[Path], list[str]]]:
    rng = random.Random(7)
    gallery, clip = _gallery_and_clip(root, rng)
    every = list(DEMO_HOSTS)
    if fast:
        return [([gallery, clip], every)]
    notes = root / "notes.txt"  # done in a second: a link to copy right away
    notes.write_text("".join(f"line {n}: {rng.random()}\n" for n in range(800)))
    concert = root / "concert.mkv"
    with concert.open("wb") as fh:
        fh.truncate(BIG_FILE_SIZE)
    return [
        ([notes, gallery], every),
        ([clip], ["catbox", "pixeldrain", "gofile"]),
        ([concert], ["pixeldrain"]),
    ]


def _config(fakes: dict[str, FakeHost], fast: bool, theme: str | None) -> str:
    lines = []
    cap = f"max_upload_speed = {FAST_SPEED}\n" if fast else ""
    for host_id in load_specs(None).specs:
        if host_id in fakes:
            lines.append(
                f'[hosts."{host_id}"]\nbase_url = "{fakes[host_id].base_url}"\n'
                f"{cap}retry_delay = 1.0\n"
            )
        else:
            lines.append(f'[hosts."{host_id}"]\nenabled = false\n')
    if theme:
        lines.append("[tui]\n" + tomli_w.dumps({"theme": theme}))
    return "\n".join(lines)


def _kept_theme(config_file: Path) -> str | None:
    """The theme picked in the last demo: its home is made afresh, the look is kept."""
    try:
        return load_config(config_file).tui.theme
    except UserError:
        return None


def _demo_credentials(host_id: str) -> dict[str, str] | None:
    return {"api_key": DEMO_KEY} if host_id == "pixeldrain" else None


@contextlib.contextmanager
def demo_session(base: AppPaths, *, fast: bool, interactive: bool) -> Iterator[DemoSession]:
    """Start the fakes, lay out a fresh demo home with sample files and say what to queue."""
    root = base.cache_dir / "demo"
    theme = _kept_theme(AppPaths.resolve(root / "home").config_file)
    shutil.rmtree(root, ignore_errors=True)
    paths = AppPaths.resolve(root / "home")
    paths.ensure()
    with contextlib.ExitStack() as stack:
        fakes = {
            host_id: stack.enter_context(
                FakeHost(
                    family,
                    credentials=_demo_credentials(host_id),
                    throttle_bps=0 if fast else THROTTLE[host_id],
                )
            )
            for host_id, family in DEMO_HOSTS.items()
        }
        fakes[RETRYING_HOST].inject("status", status=503, times=2)
        if interactive and not fast:
            fakes[FAILING_HOST].inject("no_link")
        paths.config_file.write_text(_config(fakes, fast, theme))
        os.environ[env_key("pixeldrain", "API_KEY")] = DEMO_KEY
        files = root / "files"
        files.mkdir(parents=True)
        yield DemoSession(paths, fakes, _batches(files, fast))
