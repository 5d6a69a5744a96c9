"""The wheel `pip install .` builds carries every module and data file the repository has.

Packages are listed by hand in pyproject.toml (their folders are remapped under `trainingdb`),
so a new subpackage that is not listed would work in the editable install and be missing for
users; this test catches that.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = ("versioning", "graphql_schema", "server", "migrations", "client")
DATA_FILES = (
    "migrations/script.py.mako",
    "migrations/alembic.ini",
    "graphql_schema/schema.graphql",
)

pytestmark = pytest.mark.slow


def repository_files() -> list[str]:
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def test_wheel_has_every_module_and_data_file(tmp_path: Path) -> None:
    # Build from a clean copy: setuptools reuses an in-tree build/ folder, which would hide a
    # package missing from the list behind files left there by an earlier build.
    source = tmp_path / "src"
    files = repository_files()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("trainingdb-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {name.removeprefix("trainingdb/") for name in archive.namelist()}
    expected = {
        name
        for name in files
        if name.split("/")[0] in INSTALLED
        and (name.endswith((".py", "py.typed")) or name in DATA_FILES)
    }
    assert sorted(expected - names) == []
    assert any(name.startswith("migrations/versions/0001_") for name in names)
