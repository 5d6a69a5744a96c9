"""`TrainingSet` against the running server: the map-style and iterable protocols PyTorch's
`DataLoader` reads, shards that cover every file once, the version pinned when the set is made,
and pickling into workers. A real `DataLoader` runs it when torch is installed."""

from __future__ import annotations

import hashlib
import pickle
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

from trainingdb.client import Client, InvalidInput
from trainingdb.client.data import Sample, TrainingSet

from .conftest import BOXES, SIZES, Live


def training_set(live: Live, tmp_path: Path, **options: object) -> TrainingSet:
    return TrainingSet(live.client(), "birds", cache=tmp_path / "cache", **options)  # type: ignore[arg-type]


def test_map_style_gives_each_file_its_media_and_annotations(live: Live, tmp_path: Path) -> None:
    ts = training_set(live, tmp_path, version="v1", where={"label": {"_eq": "bird"}})
    assert len(ts) == len(SIZES)
    assert ts.commit == live.seeded.first.id
    seen = [ts[i] for i in range(len(ts))]
    assert sorted(s.file.name for s in seen) == sorted(SIZES)
    for sample in seen:
        assert isinstance(sample.media, bytes)
        assert hashlib.sha256(sample.media).hexdigest() == sample.file.sha256
        assert sample.media == (live.media / sample.file.name).read_bytes()
        assert {i.label for i in sample.instances} <= {"bird"}
        assert all(i.file_id == sample.file.id for i in sample.instances)
    birds = [i for i in range(BOXES) if i % 2 == 0]
    assert sorted(int(i.x or 0) for s in seen for i in s.instances) == birds
    with pytest.raises(IndexError):
        ts[len(ts)]


def test_a_branch_is_pinned_to_its_commit_when_the_set_is_made(live: Live, tmp_path: Path) -> None:
    ts = training_set(live, tmp_path)  # main, at its head commit
    assert ts.commit == live.seeded.second.id
    before = sorted(i.id for s in ts for i in s.instances)
    with live.client() as client:
        client.create_branch("birds", "moving", from_="main")
        client.delete_instances("birds", "moving", [before[0]])
        client.commit("birds", "moving", "drop one")
    assert sorted(i.id for s in ts for i in s.instances) == before


def test_shards_cover_every_file_once(live: Live, tmp_path: Path) -> None:
    everything = sorted(s.file.id for s in training_set(live, tmp_path, batch=1))
    shards = [
        [s.file.id for s in training_set(live, tmp_path, rank=r, world_size=2, batch=1)]
        for r in range(2)
    ]
    assert sorted(shards[0] + shards[1]) == everything
    assert not set(shards[0]) & set(shards[1])


def test_dataloader_workers_split_a_rank_s_files(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a DataLoader worker torch is loaded and names the worker; the set reads it there."""
    ts = training_set(live, tmp_path)
    worker = types.SimpleNamespace(id=0, num_workers=2)
    fake = types.ModuleType("torch.utils.data")
    fake.get_worker_info = lambda: worker  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.data", fake)
    first = [s.file.id for s in ts]
    worker.id = 1
    second = [s.file.id for s in ts]
    assert sorted(first + second) == sorted(ts.ids)
    assert len(first) == 2
    assert len(second) == 1


def test_decoded_images_and_pickling_into_a_worker(live: Live, tmp_path: Path) -> None:
    ts = training_set(live, tmp_path, decode=True, version="v1")
    # As a DataLoader hands it to a spawned worker (our own bytes: S301 is about untrusted ones).
    copy = pickle.loads(pickle.dumps(ts))  # noqa: S301
    assert copy.commit == ts.commit
    assert copy.ids == ts.ids
    samples: list[Sample] = list(pickle.loads(pickle.dumps(ts.iterable())))  # noqa: S301
    assert len(samples) == len(SIZES)
    for sample in samples:
        assert isinstance(sample.media, Image.Image)
        assert sample.media.size == SIZES[sample.file.name]


def test_bad_options_are_refused(live: Live, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="rank"):
        training_set(live, tmp_path, rank=2, world_size=2)
    with pytest.raises(InvalidInput, match="batch"):
        training_set(live, tmp_path, batch=0)


def test_a_real_dataloader_with_two_workers(live: Live, tmp_path: Path) -> None:
    torch_data = pytest.importorskip("torch.utils.data", reason="torch is not installed")
    ts = TrainingSet(live.server.url, "birds", key=live.admin, cache=tmp_path / "cache")
    shuffled = torch_data.DataLoader(
        ts, batch_size=2, shuffle=True, num_workers=2, collate_fn=list
    )  # map-style: a sampler picks indices, any worker reads any file
    assert sorted(s.file.id for batch in shuffled for s in batch) == sorted(ts.ids)
    streamed = torch_data.DataLoader(ts.iterable(), batch_size=None, num_workers=2)
    assert isinstance(ts.iterable(), torch_data.IterableDataset)
    assert sorted(s.file.id for s in streamed) == sorted(ts.ids)  # each worker its shard


def test_a_client_or_a_url(live: Live, tmp_path: Path) -> None:
    with Client(live.server.url, live.admin) as client:
        by_client = TrainingSet(client, "birds", "v1", cache=tmp_path / "c")
        by_url = TrainingSet(live.server.url, "birds", "v1", key=live.admin, cache=tmp_path / "c")
        assert by_client.ids == by_url.ids
        assert [s.file.id for s in by_client] == [s.file.id for s in by_url]
