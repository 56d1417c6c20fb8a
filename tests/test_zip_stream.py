"""The streamed ZIP: what extractors see, exact size, byte ranges, Zip64 layout, changed files."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from filehost_tui.engine.zip_stream import build_archive, plan_folder
from filehost_tui.errors import ErrorKind, UploadError

needs_unzip = pytest.mark.skipif(
    shutil.which("unzip") is None and not os.environ.get("CI"),
    reason="the unzip command is not installed",
)


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def unzip_into(archive: Path, dest: Path) -> dict[str, bytes]:
    """What the `unzip` command extracts (it checks every CRC as it goes)."""
    subprocess.run(["unzip", "-q", "-o", str(archive), "-d", str(dest)], check=True)
    return folder_files(dest)


@pytest.fixture
def gallery(tmp_path: Path) -> Path:
    root = tmp_path / "Gällery"
    write(root, "01 cover.jpg", os.urandom(300_000))
    write(root, "empty.txt", b"")
    write(root, "sub/naïve ✓.txt", b"hello\n")
    write(root, "sub/deeper/big.bin", os.urandom(2_500_000))
    return root


def test_stream_has_its_planned_size_and_extracts_to_the_folder(gallery: Path) -> None:
    plan = plan_folder(gallery)
    data = b"".join(plan.chunks())

    assert len(data) == plan.size
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None  # every CRC in the directory matches the content
        assert {i.filename: zf.read(i) for i in zf.infolist()} == folder_files(gallery)
        assert all(i.flag_bits & 0x08 for i in zf.infolist())  # CRC after the data


@needs_unzip
def test_unzip_extracts_the_stream_identically(gallery: Path, tmp_path: Path) -> None:
    archive = build_archive(gallery, tmp_path / "out.zip")

    assert unzip_into(archive, tmp_path / "x") == folder_files(gallery)


def test_cached_build_writes_exactly_the_streamed_bytes(gallery: Path, tmp_path: Path) -> None:
    streamed = b"".join(plan_folder(gallery).chunks())

    assert build_archive(gallery, tmp_path / "out.zip").read_bytes() == streamed


def test_any_byte_range_joins_back_into_the_whole_stream(gallery: Path) -> None:
    whole = b"".join(plan_folder(gallery).chunks())
    plan = plan_folder(gallery)
    central = plan.cd_offset
    cuts = [0, 1, 29, 30, 300_000, 300_050, central - 1, central, central + 50, len(whole) - 22]
    for cut in cuts:
        head = b"".join(plan_folder(gallery).chunks(0, cut))
        tail = b"".join(plan_folder(gallery).chunks(cut))  # needs CRCs of members before `cut`
        assert head + tail == whole, cut
    assert b"".join(plan_folder(gallery).chunks(100, 200)) == whole[100:200]


def test_files_larger_than_the_zip64_limit_get_zip64_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # zipfile's own 2 GiB threshold lowered to 1 MiB: every Zip64 structure, in a small archive
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1024 * 1024)
    root = tmp_path / "g"
    files = {f"f{n}.bin": os.urandom(1_500_000) for n in range(3)}
    for name, data in files.items():
        write(root, name, data)
    plan = plan_folder(root)
    data = b"".join(plan.chunks())

    assert len(data) == plan.size
    assert data[-22 - 20 - 56 : -22 - 20][:4] == b"PK\x06\x06"  # Zip64 end of central directory
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in zf.infolist()} == files
        offsets = [i.header_offset for i in zf.infolist()]
        assert offsets[-1] > 1024 * 1024  # read back from the Zip64 extra field
    descriptor = data[plan.members[0].data_end :][:24]
    assert struct.unpack("<4sLQQ", descriptor)[2:] == (1_500_000, 1_500_000)


def test_plan_of_a_file_over_4_gib_needs_no_read(tmp_path: Path) -> None:
    root = tmp_path / "g"
    root.mkdir()
    size = 4 * 1024**3 + 1
    with open(root / "huge.bin", "wb") as fh:
        fh.truncate(size)  # sparse: nothing is written
    plan = plan_folder(root)

    header = b"".join(plan.chunks(0, 30 + len("huge.bin") + 20))
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    extra = header[30 + name_len :]
    assert header[:4] == b"PK\x03\x04" and header[18:26] == b"\xff" * 8
    assert extra_len == 20 and struct.unpack("<HHQQ", extra) == (1, 16, 0, 0)
    directory = 46 + len("huge.bin") + 20
    zip64_end = 56 + 20  # the directory starts past 4 GiB: Zip64 end record and locator
    assert plan.size == len(header) + size + 24 + directory + zip64_end + 22


def test_a_file_that_grows_mid_stream_fails_as_changed(gallery: Path) -> None:
    plan = plan_folder(gallery)
    chunks = plan.chunks()
    next(chunks)  # the stream has begun
    with open(gallery / "sub" / "deeper" / "big.bin", "ab") as fh:
        fh.write(b"more")

    with pytest.raises(UploadError) as err:
        list(chunks)

    assert err.value.kind is ErrorKind.SOURCE_CHANGED and err.value.retryable
    assert err.value.message == (
        "sub/deeper/big.bin: the folder changed while uploading; it is sent again from the start"
    )


def test_a_file_touched_while_it_is_read_fails_as_changed(gallery: Path) -> None:
    plan = plan_folder(gallery)
    target = gallery / "sub" / "deeper" / "big.bin"
    seen = 0
    with pytest.raises(UploadError) as err:
        for chunk in plan.chunks():
            seen += len(chunk)
            if seen > plan.members[2].data_start + 10:  # inside big.bin's data
                st = target.stat()
                os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    assert err.value.kind is ErrorKind.SOURCE_CHANGED
    assert err.value.message.startswith("sub/deeper/big.bin: the folder changed")
