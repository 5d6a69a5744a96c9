"""Training-loop data: a version's files, their media and their annotations, as the protocol
PyTorch's `DataLoader` reads, without importing torch.

- **Map-style**: `len(ts)` files and `ts[i]`, a `Sample` (one request for the file and its
  annotations, then the media through the shared cache). A `DataLoader` with a sampler
  (shuffling, distributed) drives it.
- **Iterable**: `iter(ts)` streams the files of this process's shard, a batch of files per
  request, with the media of the next batches fetched in the background. The shard is
  (rank, worker): every file goes to exactly one worker of one process, whether the ranks come
  from `rank=`/`world_size=`, torchrun's RANK/WORLD_SIZE, and the workers from a `DataLoader`'s
  (read through torch's `get_worker_info` when torch is already loaded, never imported here).
  A `DataLoader` treats a dataset as iterable only if it subclasses torch's `IterableDataset`:
  `ts.iterable()` gives that form, made from the torch the caller has already imported.

The version is pinned when the set is made: a branch resolves to its current commit, and every
read is at that commit id, so a run reads one state however long it lasts and however many
workers it forks. The set pickles without its HTTP client (workers make their own).
"""

from __future__ import annotations

import io
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from . import queries
from .cache import BlobCache, default_cache_dir
from .client import Client
from .errors import InvalidInput, NotFound
from .parse import Json, at, items, obj
from .records import File, Instance
from .types import Where

MAX_INSTANCES = 10_000  # a file's annotations read in one request (the server's largest page)


@dataclass(frozen=True, slots=True)
class Sample:
    """One training example: the file, its media (bytes, or a decoded PIL image with
    `decode=True` for images), and its annotations matching the set's filter."""

    file: File
    media: bytes | Image.Image
    instances: tuple[Instance, ...]


def shard_of(rank: int, world_size: int, worker: int, workers: int) -> tuple[int, int]:
    """shard_of: (this shard's index, the number of shards) for process `rank` of `world_size`
    and data-loading worker `worker` of `workers`."""
    if not 0 <= rank < world_size:
        raise InvalidInput(f"rank: between 0 and world_size - 1 ({world_size - 1}), not {rank}")
    return rank * workers + worker, world_size * workers


def _torch_worker() -> tuple[int, int]:
    """The DataLoader worker this process is, as (id, count); (0, 1) outside a worker."""
    data = sys.modules.get("torch.utils.data")  # loaded in a worker: it runs torch's loop
    info = data.get_worker_info() if data is not None else None
    return (0, 1) if info is None else (int(info.id), int(info.num_workers))


class TrainingSet:
    """The files of `dataset` at `version` (default: its default branch's head) matching
    `files_where`, each with its annotations matching `where`/`query`."""

    def __init__(
        self,
        client: Client | str,
        dataset: str,
        version: str | None = None,
        *,
        where: Where | None = None,
        query: str | None = None,
        files_where: Where | None = None,
        decode: bool = False,
        key: str | None = None,
        cache: str | os.PathLike[str] | None = None,
        batch: int = 64,
        prefetch: int = 2,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        if not 1 <= batch <= 1000:
            raise InvalidInput(f"batch: between 1 and 1000 files a request, not {batch}")
        if prefetch < 0:
            raise InvalidInput(f"prefetch: 0 or more batches, not {prefetch}")
        self._client: Client | None = client if isinstance(client, Client) else None
        self._pid = os.getpid()
        self._cache: BlobCache | None = None
        self._cache_pid = 0
        self.url = client.url if isinstance(client, Client) else client
        self._key = key if not isinstance(client, Client) else client.key
        self.dataset = dataset
        self.where, self.query, self.decode = where, query, decode
        self.batch, self.prefetch = batch, prefetch
        self.cache_dir = Path(cache) if cache is not None else default_cache_dir()
        self.rank = int(os.environ.get("RANK", "0")) if rank is None else rank
        self.world_size = (
            int(os.environ.get("WORLD_SIZE", "1")) if world_size is None else world_size
        )
        shard_of(self.rank, self.world_size, 0, 1)  # a bad rank fails here, not in a worker
        default = self.client.dataset(dataset).default_branch if version is None else version
        self.commit = self.client.resolve(dataset, default).id
        # The index: file ids only (36 bytes each), so a million files index in a few MB.
        self.ids: list[str] = [
            f.id for f in self.client.files(dataset, self.commit, where=files_where)
        ]

    @property
    def client(self) -> Client:
        """This process's client: a worker, forked or spawned, makes its own, since two
        processes writing to one pooled connection would interleave their requests."""
        if self._client is None or self._pid != os.getpid():
            self._client, self._pid = Client(self.url, self._key), os.getpid()
        return self._client

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # An HTTP connection pool must not cross a fork or a pickle.
        state["_client"] = state["_cache"] = None
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> Sample:
        if not -len(self.ids) <= index < len(self.ids):
            raise IndexError(f"TrainingSet index {index} out of range ({len(self.ids)} files)")
        (found,) = self._read([self.ids[index]])
        return self._sample(found[0], found[1], self._blobs().get(found[0].sha256, found[0].url))

    def __iter__(self) -> Iterator[Sample]:
        shard, shards = shard_of(self.rank, self.world_size, *_torch_worker())
        mine = self.ids[shard::shards]
        batches = [mine[i : i + self.batch] for i in range(0, len(mine), self.batch)]
        blobs = self._blobs()
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="trainingdb-media") as pool:
            ahead: deque[list[tuple[File, tuple[Instance, ...], Future[Path]]]] = deque()

            def start(ids: Sequence[str]) -> None:
                read = self._read(ids)
                ahead.append([(f, i, pool.submit(blobs.get, f.sha256, f.url)) for f, i in read])

            for ids in batches[: self.prefetch + 1]:
                start(ids)
            for n in range(len(batches)):
                if n + self.prefetch + 1 < len(batches):
                    start(batches[n + self.prefetch + 1])
                for file, instances, media in ahead.popleft():
                    yield self._sample(file, instances, media.result())

    def iterable(self) -> Iterable[Sample]:
        """iterable: `iter(self)` as an object a `DataLoader` streams (a subclass of torch's
        `IterableDataset` when torch is loaded; a plain iterable otherwise)."""
        return _stream(self)

    def _blobs(self) -> BlobCache:
        """This process's cache handle, with one connection pool for all its downloads."""
        if self._cache is None or self._cache_pid != os.getpid():
            self._cache, self._cache_pid = BlobCache(self.cache_dir), os.getpid()
        return self._cache

    def _read(self, ids: Sequence[str]) -> list[tuple[File, tuple[Instance, ...]]]:
        """Files `ids` with their annotations, in the order of `ids`: one request."""
        data = self.client.execute(
            queries.SAMPLES,
            dataset=self.dataset,
            version=self.commit,
            ids=list(ids),
            where=self.where,
            query=self.query,
            first=len(ids),
            instances=MAX_INSTANCES,
        )
        by_id: dict[str, tuple[File, tuple[Instance, ...]]] = {}
        for node in items(at(data, ("dataset", "files", "nodes"), "files")):
            raw = obj(node)
            found = items(raw["instances"])
            if len(found) == MAX_INSTANCES:
                raise InvalidInput(
                    f"file {raw['name']!r} has over {MAX_INSTANCES} matching annotations: "
                    "narrow `where`/`query`"
                )
            by_id[str(raw["id"])] = (
                File.from_json(raw),
                tuple(Instance.from_json(obj(i)) for i in found),
            )
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise NotFound(f"file {missing[0]} is not at {self.commit} any more", "NOT_FOUND")
        return [by_id[i] for i in ids]

    def _sample(self, file: File, instances: tuple[Instance, ...], path: Path) -> Sample:
        data = path.read_bytes()
        media: bytes | Image.Image = data
        if self.decode and file.media_type == "image":
            image = Image.open(io.BytesIO(data))
            image.load()
            media = image
        return Sample(file, media, instances)


class Stream:
    """The iterable form of a TrainingSet (see `TrainingSet.iterable`)."""

    def __init__(self, training_set: TrainingSet) -> None:
        self.training_set = training_set

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.training_set)

    def __reduce__(self) -> tuple[Any, tuple[TrainingSet]]:
        # A class made at run time pickles by how to make it again (spawned workers).
        return (_stream, (self.training_set,))


_TORCH_STREAMS: dict[type, type] = {}


def _stream(training_set: TrainingSet) -> Stream:
    data = sys.modules.get("torch.utils.data")
    if data is None:
        return Stream(training_set)
    base = data.IterableDataset
    if base not in _TORCH_STREAMS:
        _TORCH_STREAMS[base] = type("TorchStream", (Stream, base), {})
    made: Stream = _TORCH_STREAMS[base](training_set)
    return made


__all__ = ["Json", "Sample", "Stream", "TrainingSet", "shard_of"]
