"""File.url over HTTP: a signed link the server answers with the bytes (a folder) or with a
redirect to the object store's presigned URL (S3); forged, expired and malformed links refused."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
import httpx
import orjson
import pytest
from sqlalchemy import Engine, insert

from trainingdb import versioning as v
from trainingdb.graphql_schema.links import BlobLinks
from trainingdb.server.app import create_app
from trainingdb.server.auth import Authenticator
from trainingdb.server.blobs import BlobStore, LocalBlobStore, S3BlobStore
from trainingdb.versioning.models import Blob

from .conftest import new_bucket

pytestmark = pytest.mark.anyio
SECRET = b"0123456789abcdef-test"
PICTURE = b"\x89PNG\r\n\x1a\n not really a picture"


def seeded(engine: Engine, store: BlobStore, name: str) -> str:
    """A dataset `name` holding one file whose bytes are in `store`; the file's sha256."""
    blob = store.put_bytes(PICTURE)
    with engine.begin() as conn:
        ds = v.create_dataset(conn, name).id
        conn.execute(
            insert(Blob).values(
                dataset_id=ds,
                sha256=blob.sha256,
                size=blob.size,
                mime="image/png",
                storage_key=blob.storage_key,
            )
        )
        v.create(
            conn,
            ds,
            "main",
            "file",
            [{"name": "p.png", "blob_sha256": blob.sha256, "media_type": "image"}],
        )
    return blob.sha256


async def file_url(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post(
        "/graphql",
        json={"query": f'{{ dataset(name: "{name}") {{ files {{ nodes {{ url }} }} }} }}'},
    )
    body: dict[str, Any] = orjson.loads(response.content)
    url: str = body["data"]["dataset"]["files"]["nodes"][0]["url"]
    return url


def client_for(engine: Engine, store: BlobStore | None) -> httpx.AsyncClient:
    auth = Authenticator(engine, local_admin=True)
    app = create_app(engine, store, SECRET if store is not None else None, auth)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_folder_link_serves_the_bytes(engine: Engine, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    sha = seeded(engine, store, "linked-local")
    async with client_for(engine, store) as client:
        url = await file_url(client, "linked-local")
        assert url.startswith(f"http://testserver/blobs/{sha}?expires=")
        response = await client.get(url)
        assert response.status_code == 200
        assert response.content == PICTURE
        assert response.headers["content-type"] == "image/png"
        assert "immutable" in response.headers["cache-control"]
        ranged = await client.get(url, headers={"Range": "bytes=0-3"})
        assert (ranged.status_code, ranged.content) == (206, PICTURE[:4])


async def test_an_s3_link_redirects_to_a_presigned_url(engine: Engine, s3_endpoint: str) -> None:
    client_s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    store = S3BlobStore(client_s3, new_bucket(s3_endpoint), "media")
    seeded(engine, store, "linked-s3")
    async with client_for(engine, store) as client:
        response = await client.get(await file_url(client, "linked-s3"))
    assert response.status_code == 307
    assert httpx.get(response.headers["location"]).content == PICTURE


async def test_bad_links_are_refused(engine: Engine, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    sha = seeded(engine, store, "linked-bad")
    missing = hashlib.sha256(b"never stored").hexdigest()
    expired = BlobLinks(SECRET, now=1_000_000).url(sha)
    good = BlobLinks(SECRET).url(sha)
    async with client_for(engine, store) as client:
        for url, status, reason in [
            (good.replace("signature=", "signature=0"), 403, "signature does not match"),
            (good.replace(sha, missing), 403, "signature does not match"),
            (expired, 403, "the link has expired"),
            (BlobLinks(SECRET).url(missing), 404, "is not in the store"),
            (f"/blobs/{sha}", 400, "a blob link is"),
            ("/blobs/../../etc/passwd?expires=1&signature=0", 404, ""),
            (f"/blobs/{sha.upper()}?expires=1&signature=0", 400, "a blob link is"),
        ]:
            response = await client.get(url)
            assert response.status_code == status, url
            if reason:
                assert reason in response.json()["error"]


async def test_without_a_blob_store_urls_are_null(engine: Engine, tmp_path: Path) -> None:
    seeded(engine, LocalBlobStore(tmp_path / "blobs"), "unlinked")
    async with client_for(engine, None) as client:
        response = await client.post(
            "/graphql", json={"query": '{ dataset(name: "unlinked") { files { nodes { url } } } }'}
        )
        assert response.json()["data"]["dataset"]["files"]["nodes"] == [{"url": None}]
        assert (await client.get(BlobLinks(SECRET).url("a" * 64))).status_code == 404
