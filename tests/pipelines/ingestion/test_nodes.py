"""Unit tests of the ingestion nodes on tiny generated GeoTIFFs."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.errors import DataValidationError, ParameterError
from cocoa_threat.geo.raster import read_raster
from cocoa_threat.pipelines.ingestion.nodes import (
    acquire_raw_tiles,
    allocate_blocks,
    assign_splits,
    build_labels,
    build_model_input,
    compute_band_stats,
    validate_raw_tiles,
)
from cocoa_threat.pipelines.ingestion.params import LabelSpec, ingestion_params
from tests.conftest import ProjectConf, write_tile


@pytest.fixture
def params(project_conf: ProjectConf) -> dict:
    return project_conf.params["ingestion"]


@pytest.fixture
def local_region(params: dict, tmp_path: Path) -> tuple[dict, Path]:
    """The tiny demo region copied to a 'local' folder the test may damage."""
    index = acquire_raw_tiles(params)
    assert len(index) == 32
    src = Path(params["synthetic"]["output_dir"])
    dst = tmp_path / "local_copy"
    shutil.copytree(src, dst)
    local = {**params, "source": "local", "local_path": str(dst)}
    return local, dst


# ---- labels -------------------------------------------------------------------
def test_labels_mining_overrides_cocoa_and_nodata_is_ignored() -> None:
    mining = np.array([[0, 1, 0, 255]], dtype=np.float32)
    prob = np.array([[0.9, 0.9, 0.5, 0.9]], dtype=np.float32)
    valid = np.array([[True, True, True, True]])
    out = build_labels(np.stack([mining, prob]), valid, LabelSpec(), 255.0)
    assert out.tolist() == [[2, 1, 0, 255]]


def test_labels_threshold_and_image_nodata() -> None:
    mask = np.stack([np.zeros((1, 3), np.float32), np.array([[0.64, 0.65, 0.99]], np.float32)])
    valid = np.array([[True, True, False]])
    out = build_labels(mask, valid, LabelSpec(cocoa_threshold=0.65), 255.0)
    assert out.tolist() == [[0, 2, 255]]


def test_labels_from_class_map() -> None:
    spec = LabelSpec(mask_format="class_map", class_values={10: 0, 20: 1, 30: 2})
    mask = np.array([[[10, 20, 30, 255]]], dtype=np.float32)
    out = build_labels(mask, np.ones((1, 4), bool), spec, 255.0)
    assert out.tolist() == [[0, 1, 2, 255]]


# ---- parameters ---------------------------------------------------------------
def test_unknown_band_names_the_key(params: dict) -> None:
    with pytest.raises(ParameterError, match=r"ingestion\.bands.*unknown band 'RED_EDGE_9'"):
        ingestion_params({**params, "bands": ["BLUE", "RED_EDGE_9"]})


def test_bad_split_fractions_name_the_key(params: dict) -> None:
    bad = {
        **params,
        "split": {**params["split"], "fractions": {"train": 0.9, "val": 0.2, "test": 0.1}},
    }
    with pytest.raises(ParameterError, match=r"ingestion\.split"):
        ingestion_params(bad)


# ---- discovery and validation ---------------------------------------------------
def test_discovers_both_naming_revisions(local_region: tuple[dict, Path]) -> None:
    local, root = local_region
    for path in root.glob("*/*/*_GH_*.tif"):
        path.rename(path.with_name(path.name.replace("_GH_", "_")))
    index = acquire_raw_tiles(local)
    assert len(index) == 32
    assert set(index["year"]) == {2016, 2022}
    assert (index.groupby("tile_id").size() == 2).all()


def test_image_without_mask_is_named(local_region: tuple[dict, Path]) -> None:
    local, root = local_region
    victim = root / "2022" / "MASK" / "MASK_GH_1005_2022.tif"
    victim.unlink()
    with pytest.raises(DataValidationError, match=r"IMG_GH_1005_2022\.tif: image without a mask"):
        acquire_raw_tiles(local)
    skipping = {**local, "files": {**local["files"], "on_orphan": "skip"}}
    assert len(acquire_raw_tiles(skipping)) == 31


def test_missing_local_folder_says_which_key(params: dict, tmp_path: Path) -> None:
    local = {**params, "source": "local", "local_path": str(tmp_path / "nowhere")}
    with pytest.raises(FileNotFoundError, match="ingestion.local_path"):
        acquire_raw_tiles(local)


def _corrupt(root: Path) -> dict[str, str]:
    """Damage four files in four different ways; return file name -> expected message."""
    img = root / "2016" / "IMAGE"
    msk = root / "2016" / "MASK"
    (img / "IMG_GH_1000_2016.tif").write_bytes(b"not a tiff at all")
    raster = read_raster(img / "IMG_GH_1001_2016.tif")
    write_tile(
        img / "IMG_GH_1001_2016.tif",
        raster.data[:5],
        origin=(raster.transform.c, raster.transform.f),
    )
    raster = read_raster(img / "IMG_GH_1002_2016.tif")
    write_tile(
        img / "IMG_GH_1002_2016.tif",
        raster.data,
        origin=(raster.transform.c, raster.transform.f),
        crs="EPSG:32631",
    )
    mask = read_raster(msk / "MASK_GH_1003_2016.tif")
    mask.data[0, 0, 0] = 7
    write_tile(
        msk / "MASK_GH_1003_2016.tif",
        mask.data,
        origin=(mask.transform.c, mask.transform.f),
        nodata=255,
    )
    return {
        "IMG_GH_1000_2016.tif": "cannot be read",
        "IMG_GH_1001_2016.tif": "has 5 bands, expected 13",
        "IMG_GH_1002_2016.tif": "CRS EPSG:32631 differs",
        "MASK_GH_1003_2016.tif": "mining band (1) has values [7.0]",
    }


def test_validation_lists_every_bad_file(local_region: tuple[dict, Path]) -> None:
    local, root = local_region
    expected = _corrupt(root)
    index = acquire_raw_tiles(local)
    with pytest.raises(DataValidationError) as info:
        validate_raw_tiles(index, local)
    assert len(info.value.problems) == len(expected)
    message = str(info.value)
    for name, what in expected.items():
        line = next(line for line in message.splitlines() if name in line)
        assert what in line, line


def test_validation_accepts_clean_region(local_region: tuple[dict, Path]) -> None:
    local, _ = local_region
    inventory = validate_raw_tiles(acquire_raw_tiles(local), local)
    assert len(inventory) == 32
    assert (inventory["crs"] == "EPSG:32630").all()
    assert inventory["raw_mining_fraction"].between(0, 1).all()


# ---- splits ---------------------------------------------------------------------
@pytest.fixture
def inventory(local_region: tuple[dict, Path]) -> tuple[dict, pd.DataFrame]:
    local, _ = local_region
    return local, validate_raw_tiles(acquire_raw_tiles(local), local)


def test_same_split_for_a_tile_in_both_years(inventory: tuple[dict, pd.DataFrame]) -> None:
    local, inv = inventory
    splits = assign_splits(inv, local)
    assert (splits.groupby("tile_id")["split"].nunique() == 1).all()
    assert set(splits["split"]) == {"train", "val", "test"}


def test_whole_blocks_go_to_one_split(inventory: tuple[dict, pd.DataFrame]) -> None:
    local, inv = inventory
    local = {**local, "split": {**local["split"], "block_size": 2}}
    splits = assign_splits(inv, local)
    assert splits["block"].nunique() == 4  # 4 x 4 tiles in 2 x 2 blocks
    assert (splits.groupby("block")["split"].nunique() == 1).all()
    # Neighbouring tiles (ids row-major, 4 per row) share a block.
    block_of = splits.drop_duplicates("tile_id").set_index("tile_id")["block"]
    assert block_of["1000"] == block_of["1001"] == block_of["1004"] == block_of["1005"]
    assert block_of["1000"] != block_of["1002"]


def test_splits_are_seeded(inventory: tuple[dict, pd.DataFrame]) -> None:
    local, inv = inventory
    first = assign_splits(inv, local)
    again = assign_splits(inv, local)
    pd.testing.assert_frame_equal(first, again)


def test_block_allocation_matches_fractions_and_strata() -> None:
    mining = np.linspace(0, 0.3, 100)
    fractions = {"train": 0.7, "val": 0.15, "test": 0.15}
    out = allocate_blocks(mining, fractions, seed=3)
    counts = pd.Series(out).value_counts()
    assert counts.to_dict() == {"train": 70, "val": 15, "test": 15}
    # Stratified: test blocks span the range of mining fractions.
    test_mining = mining[out == "test"]
    assert test_mining.min() < 0.05 and test_mining.max() > 0.25


def test_too_few_blocks_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ingestion.split.block_size"):
        allocate_blocks(np.zeros(2), {"train": 0.7, "val": 0.15, "test": 0.15}, seed=0)


# ---- model input ------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "n_tiles"), [("pad", 32), ("keep", 32), ("skip", 18)])
def test_edge_tiles(inventory: tuple[dict, pd.DataFrame], mode: str, n_tiles: int) -> None:
    local, inv = inventory
    local = {**local, "raster": {**local["raster"], "edge_tiles": mode}}
    parts, manifest = build_model_input(inv, assign_splits(inv, local), local)
    assert len(manifest) == n_tiles
    assert len(parts) == 2 * n_tiles
    sizes = {r.data.shape[1:] for r in parts.values()}
    if mode == "keep":
        assert (32, 22) in sizes  # edge column: 32 - 10 px wide
    else:
        assert sizes == {(32, 32)}
    if mode == "pad":
        edge = manifest[manifest["edge_tile"]].iloc[0]
        lbl = parts[f"{edge['split']}/{edge['sample']}_lbl"].data[0]
        assert (lbl[:, -1] == 255).all() or (lbl[-1] == 255).all()


def test_model_input_layout(inventory: tuple[dict, pd.DataFrame]) -> None:
    local, inv = inventory
    parts, manifest = build_model_input(inv, assign_splits(inv, local), local)
    row = manifest.iloc[0]
    img = parts[f"{row['split']}/{row['sample']}_img"]
    lbl = parts[f"{row['split']}/{row['sample']}_lbl"]
    assert img.data.shape[0] == 6
    assert img.band_names == ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
    assert lbl.data.dtype == np.uint8 and lbl.nodata == 255
    assert set(np.unique(lbl.data)) <= {0, 1, 2, 255}
    assert row["image_path"].endswith(f"/{row['split']}/{row['sample']}_img.tif")
    fractions = manifest[["fraction_background", "fraction_mining", "fraction_cocoa"]].sum(axis=1)
    assert np.allclose(fractions, 1.0)
    # The selected bands are the raw bands 0, 1, 2, 7, 8, 9 (B2, B3, B4, B8A, B11, B12).
    raw = read_raster(row["raw_image_path"]).data
    rows, cols = raw.shape[1:]
    np.testing.assert_array_equal(img.data[:, :rows, :cols], raw[[0, 1, 2, 7, 8, 9]])


def test_band_stats_from_training_split_only(inventory: tuple[dict, pd.DataFrame]) -> None:
    local, inv = inventory
    parts, manifest = build_model_input(inv, assign_splits(inv, local), local)
    loaders = {k: (lambda r=r: r) for k, r in parts.items()}
    stats = compute_band_stats(loaders, manifest, local)
    train = [parts[k].data for k in parts if k.startswith("train/") and k.endswith("_img")]
    pixels = np.concatenate([a.reshape(6, -1) for a in train], axis=1)
    pixels = np.ma.masked_equal(pixels, -9999.0)
    np.testing.assert_allclose(stats["means"], pixels.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(stats["stds"], pixels.std(axis=1), rtol=1e-4)
    # Changing a validation image must not change the statistics.
    val_key = next(k for k in parts if k.startswith(("val/", "test/")) and k.endswith("_img"))
    parts[val_key].data[:] = 1e6
    assert compute_band_stats(loaders, manifest, local)["means"] == stats["means"]


def test_published_splits_warn_about_leakage(
    inventory: tuple[dict, pd.DataFrame], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    local, inv = inventory
    csvs = {}
    for year in (2016, 2022):
        tiles = sorted(inv["tile_id"].unique())
        split = ["train" if (int(t) + (year == 2022)) % 3 else "test" for t in tiles]
        table = pd.DataFrame(
            {
                "indices": range(len(tiles)),
                "split": split,
                "patch_name": [f"MASK_{t}_{year}.tif" for t in tiles],
            }
        )
        csvs[year] = str(tmp_path / f"split_{year}.csv")
        table.to_csv(csvs[year], index=False)
    local = {**local, "split": {**local["split"], "method": "published", "published_csv": csvs}}
    with caplog.at_level(logging.WARNING):
        splits = assign_splits(inv, local)
    assert "different splits in different years" in caplog.text
    assert set(splits["split"]) == {"train", "val", "test"}
