"""trainingdb in a real Apollo Federation supergraph: `trainingdb serve`, the models team's
subgraph (models_subgraph.mjs) and an @apollo/gateway over both (gateway.mjs), each a process on
its own port. Queries through the gateway join both ways: trainingdb's files to the predictions
the models subgraph knows, model runs to the commit they were trained on and to trainingdb's
instances, and an instance to its model run. The gateway forwards the caller's Authorization
header, so trainingdb answers every entity with the caller's rights.

Needs Node.js 20+ and npm (the test fails, never skips, without them); `npm ci` installs the
pinned packages of package-lock.json into tests/federation/node_modules on first use.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from graphql import ObjectTypeDefinitionNode, SchemaExtensionNode, parse, print_ast
from PIL import Image

from tests.clirun import Server, cli, environment, free_port, new_key, serving

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
README = HERE.parent.parent / "README.md"
LOCK = HERE / "package-lock.json"
INSTALLED = HERE / "node_modules" / ".package-lock.json"  # npm ci writes it last


def require_node() -> None:
    """Fail (not skip: CI must run this test) when Node.js 20+ or npm is missing."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(
                f"`{tool}` is not on PATH: tests/federation runs an Apollo gateway and a second "
                "subgraph on Node.js 20 or newer with npm; install them (Debian: nodejs, npm)",
                pytrace=False,
            )
    version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        pytest.fail(f"tests/federation needs Node.js 20 or newer, not {version}", pytrace=False)


def installed() -> bool:
    return INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime


def ensure_node_modules() -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json; one install at a
    time (a second pytest run waits on the lock, then finds the install done)."""
    require_node()
    if installed():
        return
    with LOCK.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            if installed():
                return
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=HERE,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"`npm ci` in {HERE} failed ({done.returncode}):\n{done.stderr}", pytrace=False
                )
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def node_environment(**extra: str) -> dict[str, str]:
    """This process's environment without Apollo settings (no managed federation, no usage
    reporting to Apollo), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    env["APOLLO_TELEMETRY_DISABLED"] = "1"
    env.update(extra)
    return env


class Node:
    """`node SCRIPT ARGS` in tests/federation, its stdout drained by a thread, stderr to a file."""

    def __init__(self, log: Path, *args: str, env: dict[str, str]) -> None:
        self.log = log
        self.command = " ".join(("node", *args))
        self._stderr = log.open("w")
        self.process = subprocess.Popen(
            ["node", *args],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        return self.log.read_text()  # the child writes to the file itself: nothing to flush

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        """The first stdout line starting with `prefix`; fails if the process ends first."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                code = self.process.wait(timeout=10)
                raise AssertionError(
                    f"{self.command} exited with {code} before {prefix!r}:\n"
                    + "\n".join(seen)
                    + f"\n{self.stderr()}"
                )
            if line.startswith(prefix):
                return line
            seen.append(line)
        self.stop()
        raise AssertionError(f"{self.command}: no {prefix!r} in {timeout} s:\n{self.stderr()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._stderr.close()


def graphql(url: str, document: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
    """POST `document` to `url` as `Bearer key`; the body (the HTTP status must be 200)."""
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    response = httpx.post(
        url, json={"query": document, "variables": variables}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class Seeded:
    ground_truth: str  # the first commit's id
    files: dict[str, str]  # name -> id
    human: str  # instance ids
    run1_a: str
    run1_b: str
    run2_b: str


@dataclass(frozen=True)
class Supergraph:
    trainingdb: Server
    gateway: str  # URLs
    models: str
    admin: str  # keys
    outsider: str  # a team key with no grant on any dataset
    seeded: Seeded
    tmp: Path


def seed(server: Server, env: dict[str, str], admin: str, tmp: Path) -> Seeded:
    """Dataset `birds`: commit "ground truth" (a human box on a.png), then commit "predictions"
    (run-1 on a.png and b.png, run-2 on b.png), tagged v1. Through GraphQL, but for the media,
    which go in as an import job run by the CLI (there is no upload mutation)."""
    url = f"{server.url}/graphql"

    def write(document: str, **variables: Any) -> dict[str, Any]:
        out = graphql(url, document, admin, **variables)
        assert "errors" not in out, out
        data: dict[str, Any] = out["data"]
        return data

    write(
        """mutation { createDataset(name: "birds") { id }
        createLabel(dataset: "birds", branch: "main", label: {name: "bird"}) { id } }"""
    )
    media = tmp / "media"
    media.mkdir()
    Image.new("RGB", (40, 30), (200, 0, 0)).save(media / "a.png")
    Image.new("RGB", (50, 20), (0, 0, 200)).save(media / "b.png")
    cli(env, "ingest", "media", "birds", str(media / "a.png"), str(media / "b.png"), "--run")
    nodes = write('{ dataset(name: "birds") { files { nodes { id name } } } }')
    files = {f["name"]: f["id"] for f in nodes["dataset"]["files"]["nodes"]}
    assert sorted(files) == ["a.png", "b.png"]

    make = """mutation($instances: [InstanceInput!]!, $message: String!) {
      createInstances(dataset: "birds", branch: "main", instances: $instances) { id }
      commit(dataset: "birds", branch: "main", message: $message, author: "test") { id }
    }"""
    box = {"kind": "box", "label": "bird", "x": 1.0, "y": 2.0, "w": 10.0, "h": 8.0}
    truth = write(make, instances=[{**box, "fileId": files["a.png"]}], message="ground truth")

    def prediction(file: str, model_run: str, score: float) -> dict[str, Any]:
        return {
            **box,
            "fileId": files[file],
            "source": "model",
            "modelRun": model_run,
            "score": score,
        }

    predicted = write(
        make,
        instances=[
            prediction("a.png", "run-1", 0.9),
            prediction("b.png", "run-1", 0.6),
            prediction("b.png", "run-2", 0.5),
        ],
        message="predictions",
    )
    write('mutation { createTag(dataset: "birds", name: "v1", version: "main") { name } }')
    run1_a, run1_b, run2_b = (i["id"] for i in predicted["createInstances"])
    return Seeded(
        ground_truth=truth["commit"]["id"],
        files=files,
        human=truth["createInstances"][0]["id"],
        run1_a=run1_a,
        run1_b=run1_b,
        run2_b=run2_b,
    )


def models_data(seeded: Seeded) -> dict[str, Any]:
    """What the models team knows: its runs, the commit each was trained on, and its
    predictions as trainingdb instances at the tag they were imported under."""

    def made(instance: str, file: str) -> dict[str, str]:
        return {"instance": instance, "file": seeded.files[file], "version": "v1"}

    return {
        "runs": [
            {
                "id": "run-1",
                "name": "detector v1",
                "trainedOn": seeded.ground_truth,
                "predictions": [made(seeded.run1_a, "a.png"), made(seeded.run1_b, "b.png")],
            },
            {
                "id": "run-2",
                "name": "detector v2",
                "trainedOn": seeded.ground_truth,
                "predictions": [made(seeded.run2_b, "b.png")],
            },
        ]
    }


@pytest.fixture(scope="module")
def supergraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supergraph]:
    started = time.monotonic()
    ensure_node_modules()
    tmp = tmp_path_factory.mktemp("federation")
    env = environment(TRAININGDB_DATA_DIR=str(tmp / "data"))
    with serving("serve", env=env) as server:
        admin = new_key(env, "--admin")
        cli(env, "teams", "create", "outsiders")
        outsider = new_key(env, "--team", "outsiders")
        seeded = seed(server, env, admin, tmp)
        data = tmp / "models.json"
        data.write_text(json.dumps(models_data(seeded)))

        models_port, gateway_port = free_port(), free_port()
        processes: list[Node] = []
        try:
            models = Node(
                tmp / "models.log",
                "models_subgraph.mjs",
                str(models_port),
                str(data),
                env=node_environment(),
            )
            processes.append(models)
            models.wait_for("models subgraph ready at")
            # The gateway composes with its own key: a team key with no grant is enough.
            gateway = Node(
                tmp / "gateway.log",
                "gateway.mjs",
                str(gateway_port),
                f"trainingdb={server.url}/graphql",
                f"models=http://127.0.0.1:{models_port}/",
                env=node_environment(GATEWAY_KEY=outsider),
            )
            processes.append(gateway)
            ready = gateway.wait_for("gateway ready at")
            assert ready == f"gateway ready at http://127.0.0.1:{gateway_port}/"
            print(f"supergraph up in {time.monotonic() - started:.1f} s")
            yield Supergraph(
                server,
                f"http://127.0.0.1:{gateway_port}/",
                f"http://127.0.0.1:{models_port}/",
                admin,
                outsider,
                seeded,
                tmp,
            )
        finally:
            for process in processes:
                process.stop()


def test_our_files_join_their_predictions(supergraph: Supergraph) -> None:
    """trainingdb -> models: the gateway sends File representations to the models subgraph."""
    s = supergraph.seeded
    out = graphql(
        supergraph.gateway,
        """{ dataset(name: "birds") {
          files(version: "v1", orderBy: [{field: NAME}]) { nodes {
            id name predictions { modelRun { id name } instance { id score } } } } } }""",
        supergraph.admin,
    )
    assert out == {
        "data": {
            "dataset": {
                "files": {
                    "nodes": [
                        {
                            "id": s.files["a.png"],
                            "name": "a.png",
                            "predictions": [
                                {
                                    "modelRun": {"id": "run-1", "name": "detector v1"},
                                    "instance": {"id": s.run1_a, "score": 0.9},
                                }
                            ],
                        },
                        {
                            "id": s.files["b.png"],
                            "name": "b.png",
                            "predictions": [
                                {
                                    "modelRun": {"id": "run-1", "name": "detector v1"},
                                    "instance": {"id": s.run1_b, "score": 0.6},
                                },
                                {
                                    "modelRun": {"id": "run-2", "name": "detector v2"},
                                    "instance": {"id": s.run2_b, "score": 0.5},
                                },
                            ],
                        },
                    ]
                }
            }
        }
    }


RUNS = """{ modelRuns {
  id name
  trainedOn { id version message }
  predictions { id version score label { name } file { name } }
} }"""


def test_their_model_runs_join_our_commits_and_instances(supergraph: Supergraph) -> None:
    """models -> trainingdb: the gateway sends Commit and Instance representations to
    trainingdb's batched `_entities`."""
    s = supergraph.seeded
    truth = {"id": s.ground_truth, "version": "main@1", "message": "ground truth"}

    def predicted(instance: str, score: float, file: str) -> dict[str, Any]:
        return {
            "id": instance,
            "version": "v1",
            "score": score,
            "label": {"name": "bird"},
            "file": {"name": file},
        }

    assert graphql(supergraph.gateway, RUNS, supergraph.admin) == {
        "data": {
            "modelRuns": [
                {
                    "id": "run-1",
                    "name": "detector v1",
                    "trainedOn": truth,
                    "predictions": [
                        predicted(s.run1_a, 0.9, "a.png"),
                        predicted(s.run1_b, 0.6, "b.png"),
                    ],
                },
                {
                    "id": "run-2",
                    "name": "detector v2",
                    "trainedOn": truth,
                    "predictions": [predicted(s.run2_b, 0.5, "b.png")],
                },
            ]
        }
    }


def test_an_instance_joins_its_model_run(supergraph: Supergraph) -> None:
    """Instance.modelRun, a stub of trainingdb's, resolved by the models subgraph."""
    s = supergraph.seeded
    out = graphql(
        supergraph.gateway,
        """{ dataset(name: "birds") {
          predictions: instances(version: "v1", where: {source: {_eq: "model"}},
                                 orderBy: [{field: SCORE, direction: DESC}]) {
            nodes { id score modelRun { id name trainedOn { version } } } }
          human: instances(version: "v1", where: {source: {_eq: "human"}}) {
            nodes { id modelRun { id name } } }
        } }""",
        supergraph.admin,
    )

    def run(n: int) -> dict[str, Any]:
        return {"id": f"run-{n}", "name": f"detector v{n}", "trainedOn": {"version": "main@1"}}

    assert out == {
        "data": {
            "dataset": {
                "predictions": {
                    "nodes": [
                        {"id": s.run1_a, "score": 0.9, "modelRun": run(1)},
                        {"id": s.run1_b, "score": 0.6, "modelRun": run(1)},
                        {"id": s.run2_b, "score": 0.5, "modelRun": run(2)},
                    ]
                },
                "human": {"nodes": [{"id": s.human, "modelRun": None}]},
            }
        }
    }


def test_the_callers_key_travels_to_trainingdb(supergraph: Supergraph) -> None:
    """A key with no grant on `birds`: the models team's data, and null with NOT_FOUND for each
    of trainingdb's entities; nothing of trainingdb's leaks."""
    s = supergraph.seeded
    response = httpx.post(
        supergraph.gateway,
        json={"query": RUNS},
        headers={"authorization": f"Bearer {supergraph.outsider}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["data"] == {
        "modelRuns": [
            {"id": "run-1", "name": "detector v1", "trainedOn": None, "predictions": [None, None]},
            {"id": "run-2", "name": "detector v2", "trainedOn": None, "predictions": [None]},
        ]
    }
    # @apollo/gateway passes trainingdb's errors through with their code (not nested), adding
    # the subgraph's name, at the paths of the entities in the client's query.
    assert sorted(e["path"] for e in out["errors"]) == [
        ["modelRuns", 0, "predictions", 0],
        ["modelRuns", 0, "predictions", 1],
        ["modelRuns", 0, "trainedOn"],
        ["modelRuns", 1, "predictions", 0],
        ["modelRuns", 1, "trainedOn"],
    ]
    for error in out["errors"]:
        assert error["extensions"] == {"code": "NOT_FOUND", "serviceName": "trainingdb"}
    for secret in ("ground truth", "main@1", "bird", "a.png", "b.png", "0.9", s.files["a.png"]):
        assert secret not in response.text

    denied = graphql(supergraph.gateway, '{ dataset(name: "birds") { name } }', supergraph.outsider)
    assert denied["data"] is None
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["NOT_FOUND"]


def test_no_key_is_refused_by_trainingdb(supergraph: Supergraph) -> None:
    """No Authorization header: trainingdb answers the gateway 401; the gateway answers 200 with
    an UNAUTHENTICATED error per refused fetch, trainingdb's own error inside."""
    for key in (None, "tdb_000000000000_not-a-key"):
        out = graphql(supergraph.gateway, "{ datasets { name } }", key)
        assert out["data"] is None
        (error,) = out["errors"]
        assert error["message"] == "401: Unauthorized"
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        response = error["extensions"]["response"]
        assert response["status"] == 401
        assert response["url"] == f"{supergraph.trainingdb.url}/graphql"
        (inner,) = response["body"]["errors"]
        assert inner["extensions"]["code"] == "UNAUTHENTICATED"

    out = graphql(supergraph.gateway, RUNS)
    # The models subgraph asks for no key: its part is there, trainingdb's is null.
    assert out["data"] == {
        "modelRuns": [
            {"id": "run-1", "name": "detector v1", "trainedOn": None, "predictions": [None, None]},
            {"id": "run-2", "name": "detector v2", "trainedOn": None, "predictions": [None]},
        ]
    }
    assert {e["extensions"]["code"] for e in out["errors"]} == {"UNAUTHENTICATED"}
    assert "ground truth" not in json.dumps(out)


def test_a_browser_gets_graphiql_at_the_gateway(supergraph: Supergraph) -> None:
    """The README's "from GraphiQL against the gateway": the page a browser loads."""
    page = httpx.get(supergraph.gateway, headers={"accept": "text/html"}, timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql@3.8.3/graphiql.min.js" in page.text
    assert "createFetcher({ url: window.location.href })" in page.text


def test_composition_needs_a_key(supergraph: Supergraph) -> None:
    """`_service { sdl }` is refused without a key: a gateway with none cannot start."""
    port = free_port()
    gateway = Node(
        supergraph.tmp / "keyless.log",
        "gateway.mjs",
        str(port),
        f"trainingdb={supergraph.trainingdb.url}/graphql",
        env=node_environment(),
    )
    try:
        assert gateway.process.wait(timeout=60) == 1
        stderr = gateway.stderr()
    finally:
        gateway.stop()
    assert "gateway failed to start" in stderr
    assert 'Couldn\'t load service definitions for "trainingdb"' in stderr
    assert "401: Unauthorized" in stderr


def signature(sdl: str) -> list[str]:
    """The schema extension, types, keys and fields of `sdl`, without descriptions (nor what
    @apollo/subgraph adds: `_service`, `_entities` and their types)."""
    shape = []
    for node in parse(sdl).definitions:
        if isinstance(node, SchemaExtensionNode):
            shape.append(print_ast(node))
        elif isinstance(node, ObjectTypeDefinitionNode) and not node.name.value.startswith("_"):
            keys = " ".join(print_ast(d) for d in node.directives or ())
            fields = [
                f.name.value
                + "".join(f"({print_ast(a)})" for a in f.arguments or ())
                + f": {print_ast(f.type)}"
                for f in node.fields or ()
                if not f.name.value.startswith("_")
            ]
            shape.append(f"{node.name.value} {keys} {fields}")
    return sorted(shape)


def test_the_readme_example_runs_through_the_gateway(supergraph: Supergraph) -> None:
    """README.md's "Federation" section shows the models subgraph's SDL and a joined query."""
    section = README.read_text().split("\n## Federation\n", 1)[1].split("\n## ", 1)[0]
    sdl, query = re.findall(r"```graphql\n(.*?)```", section, re.S)
    served = graphql(supergraph.models, "{ _service { sdl } }")["data"]["_service"]["sdl"]
    assert signature(sdl) == signature(served)

    out = graphql(supergraph.gateway, query, supergraph.admin)
    assert "errors" not in out, out
    dataset = out["data"]["dataset"]

    def made(run: int, score: float) -> dict[str, Any]:
        return {"modelRun": {"name": f"detector v{run}"}, "instance": {"score": score}}

    assert sorted(dataset["files"]["nodes"], key=lambda f: f["name"]) == [
        {"name": "a.png", "predictions": [made(1, 0.9)]},
        {"name": "b.png", "predictions": [made(1, 0.6), made(2, 0.5)]},
    ]
    truth = {"version": "main@1", "message": "ground truth"}
    assert sorted(dataset["instances"]["nodes"], key=lambda i: -i["score"]) == [
        {"score": 0.9, "modelRun": {"name": "detector v1", "trainedOn": truth}},
        {"score": 0.6, "modelRun": {"name": "detector v1", "trainedOn": truth}},
        {"score": 0.5, "modelRun": {"name": "detector v2", "trainedOn": truth}},
    ]

    def predicted(score: float, file: str) -> dict[str, Any]:
        return {"score": score, "label": {"name": "bird"}, "file": {"name": file}}

    assert out["data"]["modelRuns"] == [
        {
            "name": "detector v1",
            "trainedOn": {"version": "main@1"},
            "predictions": [predicted(0.9, "a.png"), predicted(0.6, "b.png")],
        },
        {
            "name": "detector v2",
            "trainedOn": {"version": "main@1"},
            "predictions": [predicted(0.5, "b.png")],
        },
    ]


def test_a_reference_at_a_version_is_read_at_that_version(supergraph: Supergraph) -> None:
    """The models subgraph names run-1's predictions at v1; after main rescores one of them,
    the gateway should still answer v1's score."""
    s = supergraph.seeded
    url = f"{supergraph.trainingdb.url}/graphql"
    rescore = """mutation($id: ID!) {
      updateInstance(dataset: "birds", branch: "main", instance: {id: $id, score: 0.25}) { id }
      commit(dataset: "birds", branch: "main", message: "rescore", author: "test") { id }
    }"""
    assert "errors" not in graphql(url, rescore, supergraph.admin, id=s.run1_a)
    try:
        out = graphql(
            supergraph.gateway,
            '{ modelRun(id: "run-1") { predictions { id version score } } }',
            supergraph.admin,
        )
        assert out["data"]["modelRun"]["predictions"][0] == {
            "id": s.run1_a,
            "version": "v1",
            "score": 0.9,
        }
    finally:  # main back to v1's state, for any test after this one
        back = 'mutation { revert(dataset: "birds", branch: "main", to: "v1") { id } }'
        assert "errors" not in graphql(url, back, supergraph.admin)
