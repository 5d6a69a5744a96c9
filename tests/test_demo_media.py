"""The demo's generated media decode as declared, and every box lies where it was drawn."""

from __future__ import annotations

import io

import av
from PIL import Image

from trainingdb.server.demo.media import make_images
from trainingdb.server.demo.video import make_video


def test_images_decode_and_boxes_are_inside() -> None:
    images = make_images()
    assert len(images) == 4
    for image in images:
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.format == "PNG"
        assert decoded.size == (image.width, image.height)
        for obj in image.objects:
            assert obj.x >= 0
            assert obj.y >= 0
            assert obj.x + obj.w <= image.width
            assert obj.y + obj.h <= image.height
            if obj.points:
                assert all(
                    obj.x <= px <= obj.x + obj.w and obj.y <= py <= obj.y + obj.h
                    for px, py in obj.points
                )
    assert max(sum(o.label == "car" for o in img.objects) for img in images) >= 3
    assert any(o.source == "model" and o.score is not None for img in images for o in img.objects)


def test_boxes_cover_what_was_drawn() -> None:
    """Pixels that differ from the background at a car's box edge belong to the car."""
    image = make_images()[0]
    pixels = Image.open(io.BytesIO(image.data)).convert("RGB")
    car = next(o for o in image.objects if o.label == "car")
    x, y, h = int(car.x), int(car.y), int(car.h)
    road = (0x55, 0x55, 0x55)
    assert pixels.getpixel((x, y + h // 2)) != road  # left edge is car body
    assert pixels.getpixel((x - 1, y + h // 2)) == road  # one pixel left is road


def test_video_decodes_to_its_declared_frames() -> None:
    video = make_video()
    with av.open(io.BytesIO(video.data), mode="r") as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert stream.average_rate == video.fps
    assert len(frames) == video.frame_count == 36
    assert {(f.width, f.height) for f in frames} == {(video.width, video.height)}
    assert video.duration == video.frame_count / video.fps
    assert {t.track_id for t in video.tracks} == {"car-1", "person-1"}
    for t in video.tracks:
        assert 0 <= t.frame_number < video.frame_count
        assert t.x >= 0
        assert t.y >= 0
        assert t.x + t.w <= video.width
        assert t.y + t.h <= video.height
    # The car drives in from the left: absent at first, then present.
    car_frames = sorted(t.frame_number for t in video.tracks if t.track_id == "car-1")
    assert car_frames[0] > 0


def test_generation_is_deterministic() -> None:
    # PNG bytes are identical; the MP4 container embeds encoder state that may differ, so the
    # video is compared by its annotations.
    assert [i.data for i in make_images()] == [i.data for i in make_images()]
    assert make_video().tracks == make_video().tracks
