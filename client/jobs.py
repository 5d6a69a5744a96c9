"""Batch jobs: read one, queue an export, wait for one to end (polling `job(id)`), and download
a signed link to a file without holding it in memory."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from . import queries
from .errors import CLASS_OF, JobFailed, JobTimeout, ServerError, TrainingdbError
from .http import Session
from .parse import at, decoded
from .types import FAILED, SUCCEEDED, Job

# A signed blob link names the sha256 of its bytes (server/blob_route.py): checked on download.
_BLOB_PATH = re.compile(r"/blobs/([0-9a-f]{64})\Z")
_CHUNK = 1 << 20


class Jobs:
    """The job methods of `Client`."""

    _session: Session

    def job(self, job_id: str) -> Job:
        """job: the batch job `job_id` as it is now (NotFound for another team's job)."""
        data = self._session.execute(queries.JOB, {"id": job_id})
        return decoded("job", Job.from_json, at(data, ("job",), "job"))

    def export(
        self,
        dataset: str,
        version: str | None = None,
        format: str = "coco",  # the API's argument name, though it shadows a builtin
        *,
        query: str | None = None,
        author: str | None = None,
    ) -> Job:
        """export: queue an export of the instances at `version` matching `query` (the text
        language) as coco, yolo, jsonl or parquet; follow it with `wait`, then `download`."""
        variables = {
            "dataset": dataset,
            "format": format,
            "version": version,
            "query": query,
            "author": author or "",
        }
        data = self._session.execute(queries.EXPORT_DATASET, variables)
        return decoded("exportDataset", Job.from_json, at(data, ("exportDataset",), "job"))

    def wait(
        self,
        job: str | Job,
        *,
        poll: float = 0.5,
        timeout: float | None = None,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """wait: the job once SUCCEEDED, polling every `poll` seconds; `on_progress` sees each
        new state. JobFailed when it FAILED, JobTimeout after `timeout` seconds."""
        if poll <= 0:
            raise ValueError(f"poll: a number of seconds above 0, not {poll}")
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout: a number of seconds >= 0, not {timeout}")
        job_id = job.id if isinstance(job, Job) else job
        deadline = None if timeout is None else time.monotonic() + timeout
        shown: tuple[object, ...] | None = None
        while True:
            current = self.job(job_id)
            state = (current.status, current.total, current.done, current.failed)
            if on_progress is not None and state != shown:
                on_progress(current)
                shown = state
            if current.status == SUCCEEDED:
                return current
            if current.status == FAILED:
                raise JobFailed(current)
            pause = poll
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise JobTimeout(current, timeout or 0.0)
                pause = min(poll, left)
            time.sleep(pause)

    def download(self, link: str | Job, dest: str | os.PathLike[str]) -> Path:
        """download: the bytes behind a signed link (or a finished export's `download`) into
        `dest`, streamed to a temporary name beside it and renamed once complete."""
        url = self._link(link)
        target = Path(dest)
        if target.is_dir():
            raise IsADirectoryError(f"dest: {target} is a folder; give the file to write")
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        named = _BLOB_PATH.search(httpx.URL(url).path)
        digest = hashlib.sha256()
        try:
            # No Authorization header: the link is its own credential, and a blob store that
            # the server redirects to would refuse a request carrying one.
            with self._session.http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code != 200:
                    response.read()
                    raise _refused(url, response)
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            got = digest.hexdigest()
            if named and got != named.group(1):
                raise ServerError(
                    f"download {url.split('?')[0]}: the bytes have sha256 {got}, not the "
                    f"{named.group(1)} the link names",
                    "BAD_RESPONSE",
                )
            part.replace(target)
        except httpx.HTTPError as error:
            raise self._session.unreachable(error) from error
        finally:
            part.unlink(missing_ok=True)
        return target

    def _link(self, link: str | Job) -> str:
        if isinstance(link, Job):
            if link.download is None:
                raise ValueError(
                    f"job {link.id} ({link.kind}, {link.status}) has no download link: only a "
                    "succeeded export has one"
                )
            link = link.download
        # A relative link (/blobs/...) is on the server the client talks to.
        return str(httpx.URL(self._session.endpoint).join(link))


def _refused(url: str, response: httpx.Response) -> TrainingdbError:
    """The error for a download answered with another status than 200: the blob route says
    why in `{"error": ...}` (403: a forged or expired link, 404: no such blob)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    reason = body.get("error") if isinstance(body, dict) else None
    status = response.status_code
    # The query string is the link's signature: keep it out of messages and logs.
    message = f"download {url.split('?')[0]}: HTTP {status}: {reason or response.text[:200]}"
    code = _CODE_OF_STATUS.get(status, f"HTTP_{status}")
    return CLASS_OF.get(code, ServerError)(message, code, status=status)


_CODE_OF_STATUS = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND"}
