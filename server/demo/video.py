"""A short generated drive video (MP4, H.264) with a car and a person moving along tracks."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw

from .media import draw_car, draw_person

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 12, 36


@dataclass(frozen=True, slots=True)
class DemoFrameObject:
    frame_number: int
    track_id: str
    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class DemoVideo:
    name: str
    data: bytes
    mime: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    tracks: tuple[DemoFrameObject, ...]


def _clip(x: int, y: int, w: int, h: int) -> tuple[int, int, int, int] | None:
    """The part of the box inside the frame, or None when none of it is."""
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, WIDTH), min(y + h, HEIGHT)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _frame(n: int) -> tuple[Image.Image, list[DemoFrameObject]]:
    image = Image.new("RGB", (WIDTH, HEIGHT), "#87ceeb")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 140, WIDTH, HEIGHT), fill="#555555")
    seen = []
    car = (-90 + n * 11, 170, 70, 34)
    person = (20 + n * 6, 40 + n * 3, 14, 40)
    draw_person(draw, *person)
    draw_car(draw, *car, color="red")
    for track, label, box in (("car-1", "car", car), ("person-1", "person", person)):
        clipped = _clip(*box)
        if clipped is not None:
            seen.append(DemoFrameObject(n, track, label, *clipped))
    return image, seen


def make_video() -> DemoVideo:
    """36 frames at 12 fps (3 s), 320x240; boxes clipped to the frame, absent when off-screen."""
    buffer = io.BytesIO()
    tracks: list[DemoFrameObject] = []
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        # One thread: x264's output is then the same bytes on every machine and run.
        stream.codec_context.options = {"threads": "1"}
        for n in range(FRAMES):
            image, seen = _frame(n)
            tracks.extend(seen)
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return DemoVideo(
        name="drive_0001.mp4",
        data=buffer.getvalue(),
        mime="video/mp4",
        width=WIDTH,
        height=HEIGHT,
        fps=float(FPS),
        frame_count=FRAMES,
        duration=FRAMES / FPS,
        tracks=tuple(tracks),
    )
