"""One `trainingdb serve --with-worker` for the client tests (a fresh data directory, its own
embedded PostgreSQL), with keys made by the CLI beside it, and dataset `birds` seeded through
the client itself: media through `trainingdb ingest media --run` (there is no upload mutation).

`birds` holds labels bird and cat, images a.png, b.png and c.png, and 25 boxes (box i: on image
i % 3, label bird for even i, score (i % 25) / 25, x = i, attributes {"i": i}), committed and tagged
`v1`. Then, on main: boxes 0 and 1 rescored, 2 to 4 deleted, 4 new boxes, committed. Branch
`exp` forks from v1 with no commit of its own. Team `viewers` may read `birds` (viewer role);
dataset `hidden` is granted to nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.clirun import Server, cli, environment, new_key, serving
from trainingdb.client import Client, Commit, InstanceInput

SIZES = {"a.png": (40, 30), "b.png": (50, 20), "c.png": (60, 10)}
BOXES = 25


@dataclass(frozen=True)
class Seeded:
    first: Commit  # tagged v1
    second: Commit  # main's head
    files: dict[str, str]  # name -> id
    boxes: list[str]  # box i's instance id, as created for v1
    rescored: list[str]
    deleted: list[str]
    added: list[str]


@dataclass(frozen=True)
class Live:
    server: Server
    env: dict[str, str]
    admin: str  # API keys
    viewer: str  # team `viewers`: viewer on `birds`, nothing on `hidden`
    media: Path  # the seeded images
    seeded: Seeded

    def client(
        self, key: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> Client:
        """A client of the server, as the admin unless `key` is given."""
        return Client(self.server.url, key or self.admin, transport=transport)


class Counting(httpx.BaseTransport):
    """An HTTP transport that keeps every request it sends (to count pages and batches)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def box(i: int, files: dict[str, str]) -> InstanceInput:
    return InstanceInput(
        file_id=files[sorted(SIZES)[i % 3]],
        kind="box",
        label="bird" if i % 2 == 0 else "cat",
        x=float(i),
        y=1.0,
        w=4.0,
        h=3.0,
        score=(i % BOXES) / BOXES,
        attributes={"i": i},
    )


def seed(client: Client, env: dict[str, str], media: Path) -> Seeded:
    client.create_dataset("birds", description="client tests")
    client.create_labels("birds", "main", ["bird", "cat"])
    media.mkdir()
    for name, size in SIZES.items():
        Image.new("RGB", size, (len(name) * 20, 0, 0)).save(media / name)
    cli(env, "ingest", "media", "birds", *(str(media / n) for n in SIZES), "--run")
    files = {f.name: f.id for f in client.files("birds")}
    boxes = client.create_instances("birds", "main", [box(i, files) for i in range(BOXES)])
    first = client.commit("birds", "main", "25 boxes", author="seed")
    client.create_tag("birds", "v1", "main")
    client.create_branch("birds", "exp", from_="v1")
    rescored, deleted = boxes[:2], boxes[2:5]
    client.update_instances("birds", "main", [{"id": i, "score": 0.99} for i in rescored])
    client.delete_instances("birds", "main", deleted)
    added = client.create_instances("birds", "main", [box(i, files) for i in range(100, 104)])
    second = client.commit("birds", "main", "rescore, prune, add", author="seed")
    client.create_dataset("hidden")
    return Seeded(first, second, files, boxes, rescored, deleted, added)


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("client")
    env = environment(TRAININGDB_DATA_DIR=str(tmp / "data"))
    with serving("serve", "--with-worker", env=env) as server:
        admin = new_key(env, "--admin")
        with Client(server.url, admin) as client:
            seeded = seed(client, env, tmp / "media")
        cli(env, "teams", "create", "viewers")
        viewer = new_key(env, "--team", "viewers")
        cli(env, "grants", "set", "--team", "viewers", "--dataset", "birds", "--role", "viewer")
        yield Live(server, env, admin, viewer, tmp / "media", seeded)


@pytest.fixture
def counting() -> Counting:
    return Counting()
