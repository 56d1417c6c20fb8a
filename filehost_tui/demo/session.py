"""`filehost-tui demo`: fake hosts on loopback, sample files, a queue, and the real engine.

The demo keeps its own home under the cache dir, so it never touches the user's queue, and its
config disables every host but the demo ones, so nothing can reach a real host.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filehost_tui.config import env_key
from filehost_tui.demo.fake_server import FakeHost
from filehost_tui.engine.queue_store import QueueStore
from filehost_tui.hosts.spec_loader import load_specs
from filehost_tui.paths import AppPaths

DEMO_KEY = "demo-api-key"
# host id -> fake family; gofile answers 503 twice first, so a retry shows up.
DEMO_HOSTS = {"catbox": "catbox", "0x0": "0x0", "pixeldrain": "pixeldrain", "gofile": "gofile"}
FAULTY_HOST = "gofile"
DEMO_SPEED = 3 * 1024 * 1024  # per host, so progress is visible on a fast loopback


@dataclass
class DemoSession:
    paths: AppPaths
    fakes: dict[str, FakeHost]
    samples: list[Path]

    def queue(self, queue: QueueStore) -> list[int]:
        return queue.add(self.samples, list(DEMO_HOSTS))


def _sample_files(root: Path) -> list[Path]:
    """A small gallery folder and a single larger file, made of seeded random bytes."""
    rng = random.Random(7)
    gallery = root / "Holiday gallery"
    (gallery / "raw").mkdir(parents=True)
    for n in range(8):
        (gallery / f"IMG_{n:04}.jpg").write_bytes(rng.randbytes(rng.randint(300_000, 1_200_000)))
    for n in range(3):
        (gallery / "raw" / f"IMG_{n:04}.cr2").write_bytes(rng.randbytes(1_500_000))
    video = root / "clip.mp4"
    video.write_bytes(rng.randbytes(9_000_000))
    return [gallery, video]


def _config(fakes: dict[str, FakeHost]) -> str:
    lines = []
    for host_id in load_specs(None).specs:
        if host_id in fakes:
            lines.append(
                f'[hosts."{host_id}"]\nbase_url = "{fakes[host_id].base_url}"\n'
                f"max_upload_speed = {DEMO_SPEED}\nretry_delay = 1.0\n"
            )
        else:
            lines.append(f'[hosts."{host_id}"]\nenabled = false\n')
    return "\n".join(lines)


def _demo_credentials(host_id: str) -> dict[str, str] | None:
    return {"api_key": DEMO_KEY} if host_id == "pixeldrain" else None


@contextlib.contextmanager
def demo_session(base: AppPaths) -> Iterator[DemoSession]:
    """Start the fakes, lay out a fresh demo home with sample files and queue them."""
    root = base.cache_dir / "demo"
    shutil.rmtree(root, ignore_errors=True)
    paths = AppPaths.resolve(root / "home")
    paths.ensure()
    with contextlib.ExitStack() as stack:
        fakes = {
            host_id: stack.enter_context(FakeHost(family, credentials=_demo_credentials(host_id)))
            for host_id, family in DEMO_HOSTS.items()
        }
        fakes[FAULTY_HOST].inject("status", status=503, times=2)
        paths.config_file.write_text(_config(fakes))
        os.environ[env_key("pixeldrain", "API_KEY")] = DEMO_KEY
        yield DemoSession(paths, fakes, _sample_files(root / "files"))
