"""Media probing: what images, videos and text files are, and a clear error for everything else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from trainingdb.server.demo.video import make_video
from trainingdb.server.ingest.probe import MediaError, MediaInfo, probe
from trainingdb.versioning.models.vocabulary import MediaType


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def video() -> bytes:
    return make_video().data


@pytest.mark.parametrize(
    ("name", "fmt", "mime"),
    [
        ("a.png", "PNG", "image/png"),
        ("b.jpg", "JPEG", "image/jpeg"),
        ("c.webp", "WEBP", "image/webp"),
    ],
)
def test_images(tmp_path: Path, name: str, fmt: str, mime: str) -> None:
    path = tmp_path / name
    path.write_bytes(image_bytes(fmt))
    assert probe(path) == MediaInfo(MediaType.IMAGE, mime, width=64, height=48)


def test_an_image_is_known_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "picture.dat"
    path.write_bytes(image_bytes("PNG"))
    assert probe(path).mime == "image/png"


@pytest.mark.parametrize("name", ["drive.mp4", "drive.bin"])
def test_video(tmp_path: Path, video: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(video)
    info = probe(path)
    assert (info.media_type, info.mime) == (MediaType.VIDEO, "video/mp4")
    assert (info.width, info.height, info.fps, info.frame_count) == (320, 240, 12.0, 36)
    assert info.duration == pytest.approx(3.0, abs=0.1)


def test_text(tmp_path: Path) -> None:
    path = tmp_path / "caption.txt"
    path.write_text("a car turns left\n")
    assert probe(path) == MediaInfo(MediaType.TEXT, "text/plain")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("random.png", bytes(range(256)) * 8, "not a readable image or video"),
        ("empty.jpg", b"", "not a readable image or video"),
        ("cut.png", image_bytes("PNG", (400, 300))[:-200], "the image is truncated"),
        ("cut.jpg", image_bytes("JPEG", (400, 300))[:600], "the image is truncated"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8 text (byte 3)"),
    ],
)
def test_broken_media_is_named_and_explained(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MediaError) as info:
        probe(path)
    assert str(info.value).startswith(f"{path}: ")
    assert reason in str(info.value)


def test_a_cut_video_is_refused(tmp_path: Path, video: bytes) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(video[: len(video) // 3])
    with pytest.raises(MediaError, match=rf"^{path}: "):
        probe(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "nope.png")
