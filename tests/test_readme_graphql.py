"""The README's GraphQL examples run on the demo dataset, in order, and find something."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from tests.graphql.execute import run
from trainingdb.server.blobs import LocalBlobStore
from trainingdb.server.demo.load import load_demo

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[str]:
    section = README.read_text().split("## Query it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, re.S)


def test_the_readme_examples_run_on_the_demo(engine: Engine, tmp_path: Path) -> None:
    load_demo(engine, LocalBlobStore(tmp_path))
    frames, files, mutation = examples()

    out = run(engine, frames)
    assert "errors" not in out, out
    page = out["data"]["dataset"]["frames"]
    assert page["totalCount"] == len(page["nodes"]) > 0
    for frame in page["nodes"]:
        assert 5 <= frame["frameNumber"] <= 30
        assert {"car", "person"} <= {i["label"]["name"] for i in frame["instances"]}

    out = run(engine, files)
    assert "errors" not in out, out
    data = out["data"]["dataset"]
    assert data["files"]["nodes"]
    assert data["instanceStats"]["count"] == sum(
        c["count"] for c in data["instanceStats"]["byLabel"]
    )
    assert data["diff"]["byKind"]

    out = run(engine, mutation)
    assert "errors" not in out, out
    assert out["data"]["commit"]["version"] == "relabel@1"
