"""A short generated drive video (MP4, H.264) with a car and a person moving along tracks.

`trainingdb demo` stores it next to the street images so the demo has frame-level annotations
on tracks. Motion is a fixed function of the frame number and x264 runs single-threaded without
its assembly, so the bytes are the same on every run of the same PyAV build.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw

from .media import SKY, draw_car, draw_person

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 12, 36
ROAD_TOP = 140

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class DemoFrameObject:
    """One object on one frame; (x, y, w, h) is its drawn box clipped to the frame."""

    frame_number: int
    track_id: str
    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class DemoVideo:
    """The demo's MP4 and the per-frame boxes of its tracks."""

    name: str
    data: bytes
    mime: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    tracks: tuple[DemoFrameObject, ...]


def _clip(x: int, y: int, w: int, h: int) -> Box | None:
    """The part of the box inside the frame, or None when none of it is."""
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, WIDTH), min(y + h, HEIGHT)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _frame(n: int) -> tuple[Image.Image, list[DemoFrameObject]]:
    image = Image.new("RGB", (WIDTH, HEIGHT), SKY)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, ROAD_TOP, WIDTH - 1, HEIGHT - 1), fill="#555555")
    # The car enters from off-screen left (absent on the first frames) and leaves on the right;
    # the person walks down and right. Their paths never cross, so neither hides the other.
    car: Box = (-90 + n * 11, 170, 70, 34)
    person: Box = (20 + n * 6, 40 + n * 3, 14, 40)
    draw_person(draw, *person)
    draw_car(draw, *car, color="red")
    seen = []
    for track, label, box in (("car-1", "car", car), ("person-1", "person", person)):
        clipped = _clip(*box)
        if clipped is not None:
            seen.append(DemoFrameObject(n, track, label, *clipped))
    return image, seen


def make_video() -> DemoVideo:
    """36 frames at 12 fps (3 s) of 320x240 H.264 in MP4, with every visible object's box."""
    buffer = io.BytesIO()
    tracks: list[DemoFrameObject] = []
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        # Same bytes on every run: x264's output depends on its thread count (default: one per
        # core), and with its assembly on, two encodes in one process differed once the heap
        # had moved (seen on an AVX-512 CPU). Plain C is slower; 36 tiny frames do not notice.
        stream.codec_context.options = {"threads": "1", "x264-params": "asm=0"}
        for n in range(FRAMES):
            image, seen = _frame(n)
            tracks.extend(seen)
            rgba = image.convert("RGBA").tobytes()
            frame = av.VideoFrame.from_bytes(rgba, WIDTH, HEIGHT, "rgba").reformat(format="yuv420p")
            frame.pts = n
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
