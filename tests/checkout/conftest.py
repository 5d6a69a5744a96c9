"""One `trainingdb serve --with-worker` for the checkout tests (a fresh data directory, its own
embedded PostgreSQL), an admin key made by the CLI beside it, and dataset `scenes`:

- tag `v1` (a commit of main): labels car and person; images a.png, b.png, c.png, d.png and
  night/e.png (named by path under --root); boxes: a 2 cars, b 1 car + 1 person, c 1 person,
  e 1 car; d has none.
- main's head, committed after it: c.png's bytes replaced, b.png and its boxes deleted, f.png
  added with a car, a's first box moved, and a person added on d.png.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.clirun import Server, cli, environment, new_key, serving
from trainingdb.client import Client, Commit, InstanceInput

DATASET = "scenes"
SIZES = {"a.png": (40, 30), "b.png": (50, 20), "c.png": (60, 10), "d.png": (30, 30)}


@dataclass(frozen=True)
class Live:
    server: Server
    env: dict[str, str]  # with TRAININGDB_DATA_DIR and TRAININGDB_KEY (the admin's)
    key: str
    data_dir: Path
    v1: Commit
    head: Commit
    files_v1: dict[str, str]  # name -> sha256 at v1
    files_head: dict[str, str]  # name -> sha256 at main's head

    def client(self) -> Client:
        return Client(self.server.url, self.key)


def checkout_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    """`trainingdb checkout ARGS --json`'s object (the command must succeed)."""
    found: dict[str, Any] = json.loads(cli(env, "checkout", *args, "--json"))
    return found


def media_of(folder: Path) -> dict[str, str]:
    """name -> sha256 of every file under `folder`."""
    return {
        p.relative_to(folder).as_posix(): sha256_of(p) for p in folder.rglob("*") if p.is_file()
    }


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def image(path: Path, size: tuple[int, int], shade: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (shade, 40, 90)).save(path)
    return path


def box(file_id: str, label: str, x: float) -> InstanceInput:
    return InstanceInput(file_id=file_id, kind="box", label=label, x=x, y=2.0, w=5.0, h=4.0)


def seed(client: Client, env: dict[str, str], media: Path) -> tuple[Commit, Commit]:
    client.create_dataset(DATASET, description="checkout tests")
    client.create_labels(DATASET, "main", ["car", "person"])
    paths = [image(media / n, size, 30 * i) for i, (n, size) in enumerate(SIZES.items())]
    paths.append(image(media / "night" / "e.png", (20, 20), 250))
    # The bytes main's head adds: imported with the rest (one job), dropped before v1.
    later = [image(media / "new-c.png", (60, 10), 200), image(media / "f.png", (10, 40), 120)]
    cli(env, "ingest", "media", DATASET, *map(str, paths + later), "--root", str(media), "--run")
    ids = {f.name: f.id for f in client.files(DATASET)}
    delete_files(client, [ids["new-c.png"], ids["f.png"]])
    made = client.create_instances(
        DATASET,
        "main",
        [
            box(ids["a.png"], "car", 1),
            box(ids["a.png"], "car", 10),
            box(ids["b.png"], "car", 1),
            box(ids["b.png"], "person", 8),
            box(ids["c.png"], "person", 3),
            box(ids["night/e.png"], "car", 4),
        ],
    )
    v1 = client.commit(DATASET, "main", "five images", author="seed")
    client.create_tag(DATASET, "v1", "main")

    client.execute(
        """mutation($id: ID!, $sha: String!) {
          updateFile(dataset: "scenes", branch: "main", file: {id: $id, blobSha256: $sha}) { id }
        }""",
        id=ids["c.png"],
        sha=sha256_of(later[0]),
    )
    client.delete_instances(DATASET, "main", made[2:4])
    delete_files(client, [ids["b.png"]])
    f_id = client.execute(
        """mutation($sha: String!) {
          createFile(dataset: "scenes", branch: "main",
                     file: {name: "f.png", blobSha256: $sha, mediaType: "image",
                            width: 10, height: 40}) { id }
        }""",
        sha=sha256_of(later[1]),
    )["createFile"]["id"]
    client.create_instances(DATASET, "main", [box(f_id, "car", 2), box(ids["d.png"], "person", 6)])
    client.update_instances(DATASET, "main", [{"id": made[0], "x": 20.0}])
    head = client.commit(DATASET, "main", "replace c, drop b, add f", author="seed")
    return v1, head


def delete_files(client: Client, ids: list[str]) -> None:
    client.execute(
        'mutation($ids: [ID!]!) { deleteFiles(dataset: "scenes", branch: "main", ids: $ids) }',
        ids=ids,
    )


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("checkout")
    env = environment(TRAININGDB_DATA_DIR=str(tmp / "data"))
    with serving("serve", "--with-worker", env=env) as server:
        key = new_key(env, "--admin")
        with Client(server.url, key) as client:
            v1, head = seed(client, env, tmp / "media")
            at_v1 = {f.name: f.sha256 for f in client.files(DATASET, "v1")}
            at_head = {f.name: f.sha256 for f in client.files(DATASET, head.id)}
        yield Live(
            server, {**env, "TRAININGDB_KEY": key}, key, tmp / "data", v1, head, at_v1, at_head
        )
    # `serve` names its URL in the data directory only while it runs.
    assert not (tmp / "data" / "server.json").exists()
