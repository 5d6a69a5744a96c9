"""Generated images for the demo dataset, with the exact boxes of what was drawn.

`trainingdb demo` loads these pictures into the blob store and their annotations into the
database, so a new user has real, decodable media whose labels match the pixels. Everything is
drawn from fixed layouts (no randomness), so every install and every run gets the same bytes and
loading the demo twice deduplicates. The video lives in `video.py` and reuses the drawing helpers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from trainingdb.versioning.models import InstanceKind, Source

IMAGE_SIZE = (640, 480)
SKY, BUILDINGS_TOP, ROAD_TOP = "#87ceeb", 160, 300
PERSON_SIZE = (26, 80)
LIGHT_SIZE = (24, 66)


@dataclass(frozen=True, slots=True)
class DemoObject:
    """One annotation of a demo image; (x, y, w, h) is the pixel box of what was drawn."""

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
    """A PNG of the demo dataset and its annotations."""

    name: str
    data: bytes
    mime: str
    width: int
    height: int
    objects: tuple[DemoObject, ...]


@dataclass(frozen=True, slots=True)
class _Scene:
    cars: tuple[tuple[int, int, int, int, str], ...]  # x, y, w, h, colour
    people: tuple[tuple[int, int], ...]  # x, y (size PERSON_SIZE)
    lights: tuple[tuple[int, int, str], ...]  # x, y, state (size LIGHT_SIZE)
    person_scores: tuple[float, ...] = ()  # model predictions for the first people
    car_scores: tuple[float, ...] = ()  # model predictions for the first cars
    polygon_car: int | None = None  # which car also gets a polygon outline


# Boxes never overlap within a scene, so every object is fully visible ("occluded": False) and
# its box is exactly its drawn pixels. street_0000 has four cars for ">= 3 cars" slices.
SCENES = (
    _Scene(
        cars=(
            (20, 340, 120, 56, "red"),
            (170, 372, 132, 60, "blue"),
            (330, 330, 118, 54, "white"),
            (480, 386, 140, 58, "green"),
        ),
        people=((560, 214),),
        lights=((90, 70, "red"),),
    ),
    _Scene(
        cars=((250, 350, 136, 58, "white"),),
        people=((60, 208), (118, 220)),
        lights=((520, 60, "green"),),
        person_scores=(0.91, 0.64),
    ),
    _Scene(
        cars=(
            (30, 328, 124, 52, "green"),
            (200, 396, 130, 60, "red"),
            (400, 340, 150, 62, "blue"),
        ),
        people=(),
        lights=((300, 80, "amber"),),
        polygon_car=1,
    ),
    _Scene(
        cars=((60, 380, 126, 56, "blue"), (420, 330, 140, 60, "red")),
        people=((40, 210), (250, 222), (300, 206)),
        lights=(),
        person_scores=(0.83,),
        car_scores=(0.47,),
    ),
)


def draw_car(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, color: str) -> None:
    """Draw a car (body, roof, two wheels) whose pixels span exactly the box (x, y, w, h)."""
    wheel = h // 3
    draw.rectangle((x, y + h // 4, x + w - 1, y + h - wheel // 2 - 1), fill=color)
    draw.rectangle((x + w // 5, y, x + 4 * w // 5, y + h // 4), fill=color)
    for cx in (x + w // 5, x + 4 * w // 5):
        draw.ellipse((cx - wheel // 2, y + h - wheel, cx + wheel // 2, y + h - 1), fill="black")


def car_outline(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    """The polygon an annotator would click around a car drawn by `draw_car` in that box."""
    return (
        (x, y + h / 4),
        (x + w / 5, y),
        (x + 4 * w / 5, y),
        (x + w, y + h / 4),
        (x + w, y + h),
        (x, y + h),
    )


def draw_person(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int) -> None:
    """Draw a person (head and body) whose pixels span exactly the box (x, y, w, h)."""
    head = min(w, h // 4)
    draw.ellipse((x + (w - head) // 2, y, x + (w + head) // 2, y + head), fill="#f1c27d")
    draw.rectangle((x, y + head, x + w - 1, y + h - 1), fill="#1f4e9c")


def draw_light(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, state: str) -> None:
    """Draw a traffic light showing `state` whose pixels span exactly the box (x, y, w, h)."""
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill="#222222")
    lamps = {"red": "#ff2020", "amber": "#ffb000", "green": "#20d040"}
    r = w // 3
    for i, (name, lit) in enumerate(lamps.items()):
        cy = y + h * (2 * i + 1) // 6
        draw.ellipse(
            (x + w // 2 - r, cy - r, x + w // 2 + r, cy + r),
            fill=lit if name == state else "#444444",
        )


def _draw_street(draw: ImageDraw.ImageDraw, index: int) -> None:
    width, height = IMAGE_SIZE
    draw.rectangle((0, 0, width - 1, BUILDINGS_TOP - 1), fill=SKY)
    draw.rectangle((0, BUILDINGS_TOP, width - 1, ROAD_TOP - 1), fill="#b0a89a")
    # Facades shift with the image index so the four streets do not look identical.
    for i in range(6):
        left = i * 110 + (index * 37) % 50 - 20
        top = BUILDINGS_TOP - 30 - (i * 23 + index * 11) % 60
        draw.rectangle((left, top, left + 90, ROAD_TOP - 40), fill=("#9c8f80", "#8a7f74")[i % 2])
        for wy in range(top + 12, ROAD_TOP - 60, 28):
            for wx in range(left + 12, left + 80, 24):
                draw.rectangle((wx, wy, wx + 10, wy + 14), fill="#f5e6a8")
    draw.rectangle((0, ROAD_TOP, width - 1, height - 1), fill="#555555")
    for dash in range(0, width, 80):
        draw.rectangle((dash + 10, 318, dash + 50, 321), fill="#e8d44d")


def _render(index: int, scene: _Scene) -> DemoImage:
    image = Image.new("RGB", IMAGE_SIZE, SKY)
    draw = ImageDraw.Draw(image)
    _draw_street(draw, index)
    box, human, model = InstanceKind.BOX.value, Source.HUMAN.value, Source.MODEL.value
    objects: list[DemoObject] = []
    for x, y, state in scene.lights:
        draw_light(draw, x, y, *LIGHT_SIZE, state)
        objects.append(
            DemoObject("traffic_light", box, x, y, *LIGHT_SIZE, attributes={"state": state})
        )
    for x, y in scene.people:
        draw_person(draw, x, y, *PERSON_SIZE)
        objects.append(
            DemoObject("person", box, x, y, *PERSON_SIZE, attributes={"occluded": False})
        )
    for x, y, w, h, color in scene.cars:
        draw_car(draw, x, y, w, h, color)
        attributes: dict[str, object] = {"color": color, "occluded": False}
        objects.append(DemoObject("car", box, x, y, w, h, attributes=attributes))
    # Predictions of "detector-v1": a little off the truth, as a detector is.
    for (x, y), score in zip(scene.people, scene.person_scores, strict=False):
        w, h = PERSON_SIZE
        objects.append(
            DemoObject("person", box, x - 2, y + 1, w + 3, h - 2, score=score, source=model)
        )
    for (x, y, w, h, _), score in zip(scene.cars, scene.car_scores, strict=False):
        objects.append(
            DemoObject("car", box, x + 3, y - 2, w - 5, h + 1, score=score, source=model)
        )
    if scene.polygon_car is not None:
        x, y, w, h, color = scene.cars[scene.polygon_car]
        objects.append(
            DemoObject(
                "car",
                InstanceKind.POLYGON.value,
                x,
                y,
                w,
                h,
                points=car_outline(x, y, w, h),
                source=human,
                attributes={"color": color},
            )
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return DemoImage(
        name=f"street_{index:04d}.png",
        data=buffer.getvalue(),
        mime="image/png",
        width=image.width,
        height=image.height,
        objects=tuple(objects),
    )


def make_images() -> list[DemoImage]:
    """The four demo street scenes (640x480 PNG), the same bytes on every call."""
    return [_render(i, scene) for i, scene in enumerate(SCENES)]
