"""Issue 10's "done when", on the demo itself: `trainingdb demo`, then `trainingdb checkout
street-scenes@TAG DIR` (no --server: the demo names itself in the data directory) and
`checkout --update DIR @main`, which fetches only the media main has and the tag has not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pycocotools.coco import COCO

from tests.clirun import environment, serving

from .conftest import checkout_json

pytestmark = pytest.mark.slow

DEMO = "street-scenes"


def test_the_demo_checks_out_at_a_tag_and_updates_to_main(tmp_path: Path) -> None:
    env = environment(
        TRAININGDB_DATA_DIR=str(tmp_path / "data"), TRAININGDB_CACHE=str(tmp_path / "cache")
    )
    folder = tmp_path / "scenes"
    with serving("demo", env=env) as demo:
        answer = demo.query(
            '{ dataset(name: "street-scenes") { tags { name } '
            "main: files(first: 1000) { nodes { blobSha256 } } } }"
        )
        dataset = answer["data"]["dataset"]  # type: ignore[index]
        tag = dataset["tags"][0]["name"]
        tagged = demo.query(
            f'{{ dataset(name: "street-scenes") {{ files(version: "{tag}", first: 1000) '
            "{ nodes { blobSha256 } } } }"
        )
        at_tag = {f["blobSha256"] for f in tagged["data"]["dataset"]["files"]["nodes"]}  # type: ignore[index]
        at_main = {f["blobSha256"] for f in dataset["main"]["nodes"]}

        first = checkout_json(env, f"{DEMO}@{tag}", str(folder))
        assert first["fetched_files"] == first["files"] == len(at_tag) > 0
        coco = COCO(str(folder / "annotations.json"))
        assert coco.imgs
        assert_media_present(folder, coco)

        second = checkout_json(env, "--update", str(folder), "@main")
        assert second["files"] == len(at_main)
        assert second["fetched_files"] == len(at_main - at_tag)  # only what the tag lacks
        assert second["reused_files"] == len(at_main & at_tag)
        coco = COCO(str(folder / "annotations.json"))
        assert_media_present(folder, coco)
        assert demo.interrupt() == 0, demo.stderr


def assert_media_present(folder: Path, coco: COCO) -> None:
    """Every still COCO lists is in the checkout, and so is the video of every frame it lists
    (frames are named `<video stem>/<frame:06d>.jpg`, CocoVID's way; a checkout holds the
    video, not its extracted frames)."""
    videos = {v["id"]: v["file_name"] for v in coco.dataset.get("videos", [])}
    for image in coco.imgs.values():
        if "video_id" in image:
            assert (folder / videos[image["video_id"]]).is_file(), image
        else:
            assert (folder / image["file_name"]).is_file(), image
