"""Generated media for the demo dataset, with the exact boxes of what was drawn.

Images and video are drawn from a fixed seed, so every install gets the same pictures and the
annotations `trainingdb demo` loads match the pixels.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from trainingdb.versioning.models import InstanceKind, Source

IMAGE_SIZE = (640, 480)
ROAD_TOP = 300


@dataclass(frozen=True, slots=True)
class DemoObject:
    label: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    points: tuple[tuple[float, float], ...] | None = None
    score: float | None = None
    source: str = Source.HUMAN.value
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DemoImage:
    name: str
    data: bytes
    mime: str
    width: int
    height: int
    objects: tuple[DemoObject, ...]


def draw_car(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, color: str) -> None:
    """A car whose drawn pixels fill exactly the box (x, y, w, h)."""
    wheel = h // 3
    draw.rectangle((x, y + h // 4, x + w - 1, y + h - wheel // 2 - 1), fill=color)
    draw.rectangle((x + w // 5, y, x + 4 * w // 5, y + h // 4), fill=color)
    for cx in (x + w // 5, x + 4 * w // 5):
        draw.ellipse((cx - wheel // 2, y + h - wheel, cx + wheel // 2, y + h - 1), fill="black")


def draw_person(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int) -> None:
    """A person (head and body) filling the box (x, y, w, h)."""
    head = min(w, h // 4)
    draw.ellipse((x + (w - head) // 2, y, x + (w + head) // 2, y + head), fill="#f1c27d")
    draw.rectangle((x, y + head, x + w - 1, y + h - 1), fill="#1f4e9c")


def draw_light(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, state: str) -> None:
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill="#222222")
    for i, name in enumerate(("red", "amber", "green")):
        lit = {"red": "#ff2020", "amber": "#ffb000", "green": "#20d040"}[name]
        cy = y + h * (2 * i + 1) // 6
        r = w // 3
        draw.ellipse(
            (x + w // 2 - r, cy - r, x + w // 2 + r, cy + r),
            fill=lit if name == state else "#444444",
        )


def _scene(index: int, cars: int, people: int, lights: int) -> DemoImage:
    rng = random.Random(1000 + index)
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE, "#87ceeb")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, ROAD_TOP, width, height), fill="#555555")
    draw.rectangle((0, ROAD_TOP - 140, width, ROAD_TOP - 1), fill="#b0a89a")
    objects: list[DemoObject] = []
    for i in range(lights):
        x, y = 40 + i * 300 + rng.randrange(40), 60 + rng.randrange(40)
        state = rng.choice(["red", "amber", "green"])
        draw_light(draw, x, y, 24, 66, state)
        objects.append(
            DemoObject(
                "traffic_light", InstanceKind.BOX.value, x, y, 24, 66, attributes={"state": state}
            )
        )
    for i in range(people):
        x, y = 30 + i * 110 + rng.randrange(30), ROAD_TOP - 90 + rng.randrange(20)
        draw_person(draw, x, y, 26, 80)
        objects.append(
            DemoObject(
                "person", InstanceKind.BOX.value, x, y, 26, 80, attributes={"occluded": False}
            )
        )
    for i in range(cars):
        w, h = 110 + rng.randrange(30), 50 + rng.randrange(12)
        x, y = 10 + i * 150 + rng.randrange(20), ROAD_TOP + 20 + rng.randrange(80)
        color = rng.choice(["red", "blue", "white", "green"])
        draw_car(draw, x, y, w, h, color)
        objects.append(
            DemoObject(
                "car",
                InstanceKind.BOX.value,
                x,
                y,
                w,
                h,
                attributes={"color": color, "occluded": False},
            )
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return DemoImage(
        f"street_{index:04d}.png", buffer.getvalue(), "image/png", width, height, tuple(objects)
    )


def _with_predictions(image: DemoImage, rng: random.Random) -> DemoImage:
    """Add model predictions (detector-v1) for the people of an image, and one polygon."""
    extra: list[DemoObject] = []
    for obj in image.objects:
        if obj.label == "person":
            extra.append(
                DemoObject(
                    "person",
                    InstanceKind.BOX.value,
                    obj.x + 1,
                    obj.y - 1,
                    obj.w,
                    obj.h + 1,
                    score=round(rng.uniform(0.55, 0.98), 2),
                    source=Source.MODEL.value,
                )
            )
    cars = [o for o in image.objects if o.label == "car"]
    if cars:
        c = cars[0]
        polygon = (
            (c.x, c.y + c.h / 4),
            (c.x + c.w / 5, c.y),
            (c.x + 4 * c.w / 5, c.y),
            (c.x + c.w, c.y + c.h / 4),
            (c.x + c.w, c.y + c.h),
            (c.x, c.y + c.h),
        )
        extra.append(
            DemoObject(
                "car",
                InstanceKind.POLYGON.value,
                c.x,
                c.y,
                c.w,
                c.h,
                points=polygon,
                attributes={"color": c.attributes["color"]},
            )
        )
    return DemoImage(
        image.name, image.data, image.mime, image.width, image.height, image.objects + tuple(extra)
    )


def make_images() -> list[DemoImage]:
    """Four street scenes; street_0000 has four cars (for '>= 3 cars' slices)."""
    rng = random.Random(7)
    layouts = [(4, 1, 1), (1, 2, 0), (3, 0, 1), (2, 3, 1)]
    images = [_scene(i, *layout) for i, layout in enumerate(layouts)]
    return [_with_predictions(img, rng) if i % 2 else img for i, img in enumerate(images)]
