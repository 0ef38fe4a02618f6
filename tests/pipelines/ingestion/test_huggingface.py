"""The Hugging Face source, with the download monkeypatched to local folders."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from cocoa_threat.errors import SourceUnavailableError
from cocoa_threat.pipelines.ingestion.nodes import acquire_raw_tiles
from tests.conftest import ProjectConf


@pytest.fixture
def demo_root(project_conf: ProjectConf) -> Path:
    acquire_raw_tiles(project_conf.params["ingestion"])
    return Path(project_conf.params["ingestion"]["synthetic"]["output_dir"])


def _hub_params(project_conf: ProjectConf) -> dict:
    return {**project_conf.params["ingestion"], "source": "huggingface"}


def test_hub_snapshot_with_tile_folders(
    project_conf: ProjectConf, demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "hub" / "datasets--ellaampy--SmallMinesDS" / "snapshots" / "abc"
    shutil.copytree(demo_root, snapshot / "SmallMinesDS")
    calls = {}

    def fake_download(**kwargs):
        calls.update(kwargs)
        return str(snapshot)

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    index = acquire_raw_tiles(_hub_params(project_conf))
    assert len(index) == 32
    assert calls["repo_id"] == "ellaampy/SmallMinesDS"
    assert calls["repo_type"] == "dataset"
    assert calls["revision"] == project_conf.params["ingestion"]["huggingface"]["revision"]
    assert index["image_path"].str.startswith(str(snapshot)).all()


def test_hub_snapshot_with_archive_is_unpacked_once(
    project_conf: ProjectConf, demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "hub_zip"
    snapshot.mkdir()
    with zipfile.ZipFile(snapshot / "SmallMinesDS.zip", "w") as zf:
        for path in demo_root.rglob("*.tif"):
            zf.write(path, Path("SmallMinesDS") / path.relative_to(demo_root))
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda **kw: str(snapshot))
    params = _hub_params(project_conf)
    index = acquire_raw_tiles(params)
    extract_dir = Path(params["huggingface"]["extract_dir"])
    assert len(index) == 32
    assert index["image_path"].str.startswith(str(extract_dir)).all()
    # A second run reuses the unpacked folder instead of unpacking again.
    (snapshot / "SmallMinesDS.zip").unlink()
    assert len(acquire_raw_tiles(params)) == 32


def test_hub_unreachable_says_how_to_download_by_hand(
    project_conf: ProjectConf, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(**kwargs):
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr("huggingface_hub.snapshot_download", offline)
    with pytest.raises(SourceUnavailableError) as info:
        acquire_raw_tiles(_hub_params(project_conf))
    message = str(info.value)
    assert "ellaampy/SmallMinesDS" in message
    assert "ingestion.source: local" in message and "ingestion.local_path" in message
