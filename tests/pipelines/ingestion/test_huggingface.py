"""The Hugging Face source, with the Hub replaced by local folders (no network in tests)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from cocoa_threat.errors import SourceUnavailableError
from cocoa_threat.pipelines import download, ingestion
from tests.conftest import ProjectConf, run_nodes, write_demo

# What kedro run --pipeline=ingestion runs with ingestion.source: huggingface.
FROM_HUB = download.create_pipeline() + ingestion.create_pipeline()

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def demo_tiles(project_conf: ProjectConf, tmp_path: Path) -> Path:
    """The tiny demo tiles, copied aside as the 'Hub' content; the conf set to huggingface."""
    write_demo(project_conf)
    hub = tmp_path / "hub_content"
    shutil.copytree(project_conf.raw_path("raw_tiles"), hub)
    (hub / ".stamp.json").unlink()
    project_conf.point_raw("raw_tiles", tmp_path / "data" / "01_raw" / "SmallMinesDS")
    project_conf.params["ingestion"]["source"] = "huggingface"
    return hub


def _fake_repo(monkeypatch: pytest.MonkeyPatch, files: list[str], calls: dict) -> None:
    def repo_info(self, repo_id, repo_type=None, revision=None, **kwargs):
        calls["repo_info"] = {"repo_id": repo_id, "repo_type": repo_type, "revision": revision}
        return SimpleNamespace(sha=COMMIT, siblings=[SimpleNamespace(rfilename=f) for f in files])

    monkeypatch.setattr("huggingface_hub.HfApi.repo_info", repo_info)


def test_hub_tile_folders_only_the_years_asked_at_the_resolved_commit(
    project_conf: ProjectConf, demo_tiles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The repository has a third year the run does not need.
    snapshot = tmp_path / "hub" / "snapshots" / COMMIT
    shutil.copytree(demo_tiles, snapshot / "SmallMinesDS")
    shutil.copytree(demo_tiles / "2016", snapshot / "SmallMinesDS" / "2019")
    files = [p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*.tif")]
    calls: dict = {}
    _fake_repo(monkeypatch, files + ["README.md"], calls)

    def snapshot_download(**kwargs):
        calls["snapshot"] = kwargs
        return str(snapshot)

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    catalog = run_nodes(
        project_conf, FROM_HUB, "plan_tiles_download", "download_tiles", "index_raw_tiles"
    )

    assert calls["repo_info"]["revision"] == "main"
    assert calls["snapshot"]["revision"] == COMMIT  # the resolved commit, not the branch
    assert sorted(calls["snapshot"]["allow_patterns"]) == [
        f"SmallMinesDS/{y}/{d}/*" for y in (2016, 2022) for d in ("IMAGE", "MASK")
    ]
    assert calls["snapshot"]["cache_dir"].endswith(".huggingface_cache")
    raw = project_conf.raw_path("raw_tiles")
    assert sorted(p.name for p in raw.iterdir() if p.is_dir()) == ["2016", "2022"]
    assert len(catalog.load("raw_tile_index")) == 32
    stamp = (raw / ".stamp.json").read_text()
    assert COMMIT in stamp and "ellaampy/SmallMinesDS" in stamp
    # A second run with the same revision and years downloads nothing.
    monkeypatch.setattr(
        "huggingface_hub.snapshot_download", lambda **kw: pytest.fail("downloaded again")
    )
    run_nodes(project_conf, FROM_HUB, "plan_tiles_download", "download_tiles")


def test_hub_archive_is_unpacked_for_the_years_asked(
    project_conf: ProjectConf, demo_tiles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "SmallMinesDS.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in demo_tiles.rglob("*.tif"):
            zf.write(path, Path("SmallMinesDS") / path.relative_to(demo_tiles))
        zf.writestr("SmallMinesDS/2019/IMAGE/IMG_GH_1000_2019.tif", b"not needed")
    calls: dict = {}
    _fake_repo(monkeypatch, ["SmallMinesDS.zip", "README.md"], calls)

    def hf_hub_download(**kwargs):
        calls["file"] = kwargs
        return str(archive)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", hf_hub_download)
    catalog = run_nodes(
        project_conf, FROM_HUB, "plan_tiles_download", "download_tiles", "index_raw_tiles"
    )
    assert calls["file"]["filename"] == "SmallMinesDS.zip"
    assert calls["file"]["revision"] == COMMIT
    raw = project_conf.raw_path("raw_tiles")
    assert not (raw / "2019").exists()
    assert len(catalog.load("raw_tile_index")) == 32


def test_hub_unreachable_says_how_to_download_by_hand(
    project_conf: ProjectConf, demo_tiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(self, *args, **kwargs):
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr("huggingface_hub.HfApi.repo_info", offline)
    # The download is a node: its failure is the node's, not a dataset's save.
    with pytest.raises(SourceUnavailableError) as info:
        run_nodes(project_conf, FROM_HUB, "plan_tiles_download", "download_tiles")
    message = str(info.value)
    assert "ellaampy/SmallMinesDS" in message
    assert "ingestion.source: local" in message and "raw.tiles" in message
    # Nothing half-downloaded is left where the tiles go, nor any temporary folder.
    raw = project_conf.raw_path("raw_tiles")
    assert not raw.exists()
    assert not [p for p in raw.parent.iterdir() if p.name.startswith(".")] or all(
        p.name == ".huggingface_cache" for p in raw.parent.iterdir() if p.name.startswith(".")
    )
