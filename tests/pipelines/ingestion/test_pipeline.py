"""The ingestion pipeline end to end on a tiny demo region, through the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.raster import read_header
from cocoa_threat.pipelines.ingestion import create_pipeline
from tests.conftest import ProjectConf


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_ingestion_pipeline_writes_model_input(project_conf: ProjectConf) -> None:
    catalog = project_conf.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

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
    catalog = project_conf.catalog_with_params()
    # First build the demo region, then break one file of it.
    ingestion = project_conf.params["ingestion"]
    SequentialRunner().run(create_pipeline().to_nodes("acquire_raw_tiles"), catalog)
    region = Path(ingestion["synthetic"]["output_dir"])
    bad = region / "2022" / "IMAGE" / "IMG_GH_1007_2022.tif"
    bad.write_bytes(b"\x00" * 100)
    before = _files(tmp_path / "data")
    local = {**ingestion, "source": "local", "local_path": str(region)}
    project_conf.params["ingestion"] = local
    catalog = project_conf.catalog_with_params()
    with pytest.raises(DataValidationError, match="IMG_GH_1007_2022.tif: cannot be read"):
        SequentialRunner().run(create_pipeline(), catalog)
    written = _files(tmp_path / "data") - before
    # Only the raw index (the list of files found) may be written before validation.
    assert {p.name for p in written} <= {"raw_tile_index.parquet"}
    assert not Path(ingestion["model_input_dir"]).exists()
