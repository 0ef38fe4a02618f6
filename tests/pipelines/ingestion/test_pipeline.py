"""The ingestion pipeline end to end on a tiny demo region, through the catalog."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.raster import read_header
from cocoa_threat.pipelines.ingestion import create_pipeline
from tests.conftest import ProjectConf, from_raw, write_demo


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_ingestion_pipeline_writes_model_input(project_conf: ProjectConf) -> None:
    catalog = project_conf.catalog_with_params()
    SequentialRunner().run(from_raw(), catalog)

    manifest = catalog.load("tile_manifest")
    assert len(manifest) == 32
    assert set(manifest["split"]) == {"train", "val", "test"}
    assert (manifest.groupby("tile_id")["split"].nunique() == 1).all()
    for path in manifest["image_path"].tolist() + manifest["label_path"].tolist():
        assert Path(path).is_file(), path
    header = read_header(manifest["image_path"].iloc[0])
    assert header.count == 6 and header.crs == "EPSG:32630" and header.res == (10.0, 10.0)

    stats = json.loads(Path(project_conf.catalog["band_stats"]["filepath"]).read_text())
    assert stats["bands"] == ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
    assert all(s > 0 for s in stats["stds"])
    assert stats["n_tiles"] == int((manifest["split"] == "train").sum())

    # The model input is what TerraTorch's generic datamodule reads: pairs per split.
    root = Path(project_conf.params["ingestion"]["model_input_dir"])
    for split in ("train", "val", "test"):
        imgs = sorted(p.name.removesuffix("_img.tif") for p in (root / split).glob("*_img.tif"))
        lbls = sorted(p.name.removesuffix("_lbl.tif") for p in (root / split).glob("*_lbl.tif"))
        assert imgs == lbls and imgs
        assert len(imgs) == int((manifest["split"] == split).sum())


def test_bad_input_leaves_no_outputs(project_conf: ProjectConf, tmp_path: Path) -> None:
    write_demo(project_conf)
    # Break one file of a local copy of the region.
    local = tmp_path / "local"
    shutil.copytree(project_conf.raw_path("raw_tiles"), local)
    (local / "2022" / "IMAGE" / "IMG_GH_1007_2022.tif").write_bytes(b"\x00" * 100)
    project_conf.point_raw("raw_tiles", local)
    project_conf.params["ingestion"]["source"] = "local"
    before = _files(tmp_path / "data")
    with pytest.raises(DataValidationError, match="IMG_GH_1007_2022.tif: cannot be read"):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
    written = _files(tmp_path / "data") - before
    # Only the raw index (the list of files found) may be written before validation.
    assert {p.name for p in written} <= {"raw_tile_index.parquet"}
    assert not Path(project_conf.params["ingestion"]["model_input_dir"]).exists()


def test_rerun_leaves_raw_data_byte_identical(project_conf: ProjectConf) -> None:
    """The demo region is written once; a second run (and a user's edit) is left alone."""
    SequentialRunner().run(from_raw(), project_conf.catalog_with_params())
    raw = project_conf.raw_path("raw_tiles").parent
    survey = project_conf.raw_path("mercury_survey_raw")
    survey.write_text(survey.read_text() + "# checked by the field team\n")
    snapshot = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in _files(raw)}
    SequentialRunner().run(from_raw(), project_conf.catalog_with_params())
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in _files(raw)} == snapshot
    # Changed generator parameters rewrite the demo (and only what depends on them) ...
    project_conf.params["demo"]["mercury"]["n_road_points"] = 50
    SequentialRunner().run(from_raw(), project_conf.catalog_with_params())
    changed = {p for p in _files(raw) if snapshot.get(p, (None, None))[1] != p.stat().st_mtime_ns}
    assert survey in changed and not any("tiles" in str(p) for p in changed)
    # ... and no temporary file or folder is left behind.
    assert not [p for p in raw.rglob("*") if ".partial" in p.name or p.name.endswith(".old")]
