"""Unit tests of the ingestion nodes on tiny generated GeoTIFFs, raw data through the catalog."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.errors import DataValidationError, ParameterError
from cocoa_threat.geo.raster import read_raster
from cocoa_threat.params import LandUse
from cocoa_threat.params.checks import check_parameters
from cocoa_threat.params.ingestion import IngestionParams, LabelSpec, SplitSpec
from cocoa_threat.pipelines.ingestion import create_pipeline
from cocoa_threat.pipelines.ingestion.nodes import (
    assign_splits,
    build_model_input,
    compute_band_stats,
    index_raw_tiles,
    validate_raw_tiles,
)
from cocoa_threat.smallminesds.labels import build_labels
from cocoa_threat.smallminesds.splits import allocate_strata, blocked_splits
from tests.conftest import ProjectConf, run_nodes, write_demo, write_tile

LAND_USE = LandUse(
    classes=["background", "mining", "cocoa"],
    colours={"background": "#eeeeee", "mining": "#ff0000", "cocoa": "#00ff00"},
)


@pytest.fixture
def local_region(project_conf: ProjectConf, tmp_path: Path) -> ProjectConf:
    """The tiny demo region copied to a 'local' folder the test may damage."""
    write_demo(project_conf)
    dst = tmp_path / "local_copy"
    shutil.copytree(project_conf.raw_path("raw_tiles"), dst)
    project_conf.point_raw("raw_tiles", dst)
    project_conf.params["ingestion"]["source"] = "local"
    return project_conf


def _index(conf: ProjectConf) -> pd.DataFrame:
    catalog = conf.catalog_with_params()
    return index_raw_tiles(catalog.load("raw_tiles"), conf.typed("ingestion"))


def _validate(conf: ProjectConf) -> tuple[pd.DataFrame, object]:
    catalog = conf.catalog_with_params()
    index = index_raw_tiles(catalog.load("raw_tiles"), conf.typed("ingestion"))
    return validate_raw_tiles(
        catalog.load("raw_tiles"),
        index,
        catalog.load("cocoa_layer_raw"),
        conf.typed("ingestion"),
        conf.typed("land_use"),
    )


# ---- labels -------------------------------------------------------------------
def test_labels_mining_wins_threshold_and_nodata() -> None:
    mining = np.array([[0, 1, 0, 255, 1, 0]], dtype=np.uint8)[None]
    cocoa = np.array([[0.9, 0.9, 0.64, 0.9, np.nan, np.nan]], dtype=np.float32)
    valid = np.ones((1, 6), bool)
    spec = LabelSpec(cocoa={"source": "raster"})
    out = build_labels(mining, 255, valid, cocoa, spec, LAND_USE)
    # cocoa; mining wins; below threshold; mask nodata; mining without cocoa data; no data
    assert out.tolist() == [[2, 1, 0, 255, 1, 255]]
    valid[0, 0] = False
    assert build_labels(mining, 255, valid, cocoa, spec, LAND_USE)[0, 0] == 255


def test_labels_without_cocoa_are_two_classes() -> None:
    two = LandUse(
        classes=["background", "mining"],
        cocoa_class=None,
        colours={"background": "#eeeeee", "mining": "#ff0000"},
    )
    mining = np.array([[[0, 1, 255]]], dtype=np.float32)
    spec = LabelSpec(cocoa={"source": "none"})
    out = build_labels(mining, 255, np.ones((1, 3), bool), None, spec, two)
    assert out.tolist() == [[0, 1, 255]]


def test_labels_from_class_map() -> None:
    spec = LabelSpec(
        mask_format="class_map", class_values={10: 0, 20: 1, 30: 2}, cocoa={"source": "mask_band"}
    )
    mask = np.array([[[10, 20, 30, 255]]], dtype=np.float32)
    out = build_labels(mask, 255, np.ones((1, 4), bool), None, spec, LAND_USE)
    assert out.tolist() == [[0, 1, 2, 255]]


# ---- parameters ---------------------------------------------------------------
def test_unknown_band_names_the_key(project_conf: ProjectConf) -> None:
    params = project_conf.params["ingestion"]
    with pytest.raises(ParameterError, match=r"ingestion\.bands.*unknown band 'RED_EDGE_9'"):
        IngestionParams.model_validate({**params, "bands": ["BLUE", "RED_EDGE_9"]})


def test_bad_split_fractions_name_the_key(project_conf: ProjectConf) -> None:
    params = project_conf.params["ingestion"]
    bad = {
        **params,
        "split": {**params["split"], "fractions": {"train": 0.9, "val": 0.2, "test": 0.1}},
    }
    with pytest.raises(ParameterError, match=r"ingestion\.split"):
        IngestionParams.model_validate(bad)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"cocoa": {"source": "mask_band"}}, "1-band mining masks.*have no cocoa band"),
        (
            {"cocoa": {"source": "raster", "path": "cocoa.tif"}},
            r"ingestion\.labels\.cocoa: path is not a parameter.*raw\.cocoa_layer",
        ),
        (
            {"mask_format": "class_map", "class_values": {1: 1}, "cocoa": {"source": "raster"}},
            "can't be combined with mask_format: class_map",
        ),
        ({"cocoa": {"source": "raster", "resample": "nearest"}}, r"cocoa\.resample"),
    ],
)
def test_bad_cocoa_source_names_the_key(
    project_conf: ProjectConf, labels: dict, message: str
) -> None:
    params = project_conf.params["ingestion"]
    merged = {**params["labels"], **labels}
    merged["cocoa"] = {**params["labels"]["cocoa"], **labels["cocoa"]}
    with pytest.raises(ParameterError, match=message):
        IngestionParams.model_validate({**params, "labels": merged})


def test_cocoa_source_and_land_use_must_agree(project_conf: ProjectConf) -> None:
    params = project_conf.params["ingestion"]
    none = {**params, "labels": {**params["labels"], "cocoa": {"source": "none"}}}

    def problems(ingestion: dict, land_use: dict) -> str:
        return "\n".join(check_parameters({"ingestion": ingestion, "land_use": land_use}))

    assert re.search(
        r"source is none.*land_use\.cocoa_class", problems(none, project_conf.params["land_use"])
    )
    two = {**project_conf.params["land_use"], "classes": ["background", "mining"]}
    two["cocoa_class"] = None
    assert problems(none, two) == ""  # a consistent two-class study
    assert re.search(r"land_use\.cocoa_class is null", problems(params, two))


# ---- discovery and validation ---------------------------------------------------
def test_discovers_both_naming_revisions(local_region: ProjectConf) -> None:
    root = local_region.raw_path("raw_tiles")
    for path in root.glob("*/*/*_GH_*.tif"):
        path.rename(path.with_name(path.name.replace("_GH_", "_")))
    index = _index(local_region)
    assert len(index) == 32
    assert set(index["year"]) == {2016, 2022}
    assert (index.groupby("tile_id").size() == 2).all()


def test_image_without_mask_is_named(local_region: ProjectConf) -> None:
    root = local_region.raw_path("raw_tiles")
    (root / "2022" / "MASK" / "MASK_GH_1005_2022.tif").unlink()
    with pytest.raises(DataValidationError, match=r"IMG_GH_1005_2022\.tif: image without a mask"):
        _index(local_region)
    local_region.params["ingestion"]["files"]["on_orphan"] = "skip"
    assert len(_index(local_region)) == 31


def test_missing_folder_says_where_to_get_the_data(
    local_region: ProjectConf, tmp_path: Path
) -> None:
    local_region.point_raw("raw_tiles", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist.*SmallMinesDS"):
        run_nodes(local_region, create_pipeline(), "index_raw_tiles")


def _corrupt(root: Path) -> dict[str, str]:
    """Damage five files in five different ways; return file name -> expected message."""
    img = root / "2016" / "IMAGE"
    msk = root / "2016" / "MASK"
    (img / "IMG_GH_1000_2016.tif").write_bytes(b"not a tiff at all")
    raster = read_raster(img / "IMG_GH_1001_2016.tif")
    origin = (raster.transform.c, raster.transform.f)
    write_tile(img / "IMG_GH_1001_2016.tif", raster.data[:5], origin=origin)
    raster = read_raster(img / "IMG_GH_1002_2016.tif")
    origin = (raster.transform.c, raster.transform.f)
    write_tile(img / "IMG_GH_1002_2016.tif", raster.data, origin=origin, crs="EPSG:32631")
    mask = read_raster(msk / "MASK_GH_1003_2016.tif")
    mask.data[0, 0, 0] = 7
    origin = (mask.transform.c, mask.transform.f)
    write_tile(msk / "MASK_GH_1003_2016.tif", mask.data, origin=origin, nodata=255)
    mask = read_raster(msk / "MASK_GH_1004_2016.tif")
    origin = (mask.transform.c, mask.transform.f)
    two_band = np.concatenate([mask.data, np.full_like(mask.data, 0.5)])
    write_tile(msk / "MASK_GH_1004_2016.tif", two_band.astype(np.float32), origin=origin)
    return {
        "IMG_GH_1000_2016.tif": "cannot be read",
        "IMG_GH_1001_2016.tif": "has 5 bands, expected 13",
        "IMG_GH_1002_2016.tif": "CRS EPSG:32631 differs",
        "MASK_GH_1003_2016.tif": "mining band (1) has values [7]",
        "MASK_GH_1004_2016.tif": "has 2 bands (a mining + cocoa-probability mask",
    }


def test_validation_lists_every_bad_file(local_region: ProjectConf) -> None:
    expected = _corrupt(local_region.raw_path("raw_tiles"))
    with pytest.raises(DataValidationError) as info:
        _validate(local_region)
    assert len(info.value.problems) == len(expected)
    message = str(info.value)
    for name, what in expected.items():
        line = next(line for line in message.splitlines() if name in line)
        assert what in line, line


def test_one_band_mask_where_two_bands_are_configured(local_region: ProjectConf) -> None:
    ingestion = local_region.params["ingestion"]
    ingestion["labels"]["mask_format"] = "mining_cocoa"
    ingestion["labels"]["cocoa"]["source"] = "mask_band"
    with pytest.raises(DataValidationError, match="has 1 band.*set mask_format: mining"):
        _validate(local_region)


def test_validation_accepts_clean_region(local_region: ProjectConf) -> None:
    inventory, cocoa = _validate(local_region)
    assert len(inventory) == 32
    assert (inventory["crs"] == "EPSG:32630").all()
    assert inventory["raw_mining_fraction"].between(0, 1).all()
    # The cocoa layer was placed once per tile (static across years), as probability.
    assert set(cocoa.probability) == set(inventory["tile_id"])
    values = np.concatenate([a[np.isfinite(a)] for a in cocoa.probability.values()])
    assert 0 <= values.min() and values.max() <= 1
    assert cocoa.provenance["file"] == "cocoa_probability.tif"
    assert len(cocoa.provenance["header_sha256"]) == 64


# ---- splits ---------------------------------------------------------------------
@pytest.fixture
def inventory(local_region: ProjectConf) -> tuple[ProjectConf, pd.DataFrame, object]:
    inv, cocoa = _validate(local_region)
    return local_region, inv, cocoa


def test_same_split_for_a_tile_in_both_years(inventory: tuple) -> None:
    conf, inv, _ = inventory
    splits = assign_splits(inv, None, conf.typed("ingestion"))
    assert (splits.groupby("tile_id")["split"].nunique() == 1).all()
    assert set(splits["split"]) == {"train", "val", "test"}


def test_whole_blocks_go_to_one_split(inventory: tuple) -> None:
    conf, inv, _ = inventory
    split = conf.params["ingestion"]["split"]
    split["block_size"] = 2
    # 4 blocks: one stratum, 2 test blocks (the design's least), 1 val, 1 train.
    split["strata"]["n_strata"] = 1
    split["fractions"] = {"train": 0.25, "val": 0.25, "test": 0.5}
    splits = assign_splits(inv, None, conf.typed("ingestion"))
    assert splits["block"].nunique() == 4  # 4 x 4 tiles in 2 x 2 blocks
    assert (splits.groupby("block")["split"].nunique() == 1).all()
    block_of = splits.drop_duplicates("tile_id").set_index("tile_id")["block"]
    assert block_of["1000"] == block_of["1001"] == block_of["1004"] == block_of["1005"]
    assert block_of["1000"] != block_of["1002"]


def test_splits_are_seeded(inventory: tuple) -> None:
    conf, inv, _ = inventory
    first = assign_splits(inv, None, conf.typed("ingestion"))
    pd.testing.assert_frame_equal(first, assign_splits(inv, None, conf.typed("ingestion")))


def _inventory(n_side: int = 8, seed: int = 0) -> pd.DataFrame:
    """A region of n x n tiles (1.28 km) in two years, mining in ~half the first year's tiles."""
    rng = np.random.default_rng(seed)
    n = n_side * n_side
    first = np.where(rng.random(n) < 0.5, 0.0, rng.beta(1.5, 8, n))
    rows = [
        {
            "tile_id": str(1000 + i),
            "year": year,
            "minx": 600_000.0 + 1280 * (i % n_side),
            "maxy": 700_000.0 - 1280 * (i // n_side),
            "raw_mining_fraction": first[i] * (1.0 if year == 2016 else 1.4),
        }
        for year in (2016, 2022)
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def _spec(**strata: object) -> SplitSpec:
    return SplitSpec(
        block_size=1, fractions={"train": 0.7, "val": 0.15, "test": 0.15}, strata=strata
    )


def test_every_block_has_its_stated_inclusion_probability() -> None:
    """Over 400 seeds, each block is a test block as often as its inclusion probability says.

    The old allocation (blocks walked in mining order, quotas filled) never put
    a quarter of the demo's blocks, the most mined among them, in the test split.
    """
    inv = _inventory()
    spec = _spec(n_strata=2, oversample=[1.0, 2.0])
    draws = [
        blocked_splits(inv, spec.model_copy(update={"seed": s}), 128, 10.0) for s in range(400)
    ]
    first = draws[0].drop_duplicates("block").set_index("block")
    freq = sum((d.drop_duplicates("block").set_index("block")["split"] == "test") for d in draws)
    freq = freq / len(draws)
    prob = first["inclusion_prob"]
    assert (prob > 0).all() and prob.sum() == pytest.approx((first["split"] == "test").sum())
    tolerance = 4.5 * np.sqrt(prob * (1 - prob) / len(draws))
    assert ((freq - prob).abs() <= tolerance).all(), (freq - prob).abs().max()
    # Strata by the first year's mining; the richer stratum is oversampled.
    mining = inv[inv["year"] == 2016].set_index("tile_id")["raw_mining_fraction"]
    by_stratum = first.assign(mining=mining.to_numpy()).groupby("stratum")
    assert by_stratum["mining"].max()["s1"] <= by_stratum["mining"].min()["s2"]
    assert by_stratum["inclusion_prob"].first()["s2"] > by_stratum["inclusion_prob"].first()["s1"]
    # Given the training blocks, a test block stands for N_h / n_h non-training blocks.
    for _, g in draws[0].drop_duplicates("block").groupby("stratum"):
        test = g[g["split"] == "test"]
        assert (test["design_weight"] == (g["split"] != "train").sum() / len(test)).all()
        assert (g.loc[g["split"] != "test", "design_weight"] == 0).all()


def test_allocation_follows_fractions_strata_and_oversampling() -> None:
    sizes = pd.Series([50, 50], index=["s1", "s2"])
    counts = allocate_strata(sizes, _spec(n_strata=2))
    assert counts.sum().to_dict() == {"train": 70, "val": 15, "test": 15}
    assert abs(counts.loc["s1", "test"] - counts.loc["s2", "test"]) <= 1
    over = allocate_strata(sizes, _spec(n_strata=2, oversample=[1.0, 2.0]))
    assert over["test"].tolist() == [5, 10] and over.sum()["test"] == 15


def test_a_design_that_cannot_give_every_stratum_two_test_blocks_fails_naming_the_keys() -> None:
    with pytest.raises(ValueError, match=r"strata.min_test_blocks.*fractions.test"):
        allocate_strata(pd.Series([8, 8, 8], index=["s1", "s2", "s3"]), _spec(n_strata=3))
    with pytest.raises(ValueError, match="ingestion.split.block_size"):
        allocate_strata(pd.Series([2], index=["s1"]), _spec(n_strata=1))


@pytest.mark.parametrize(
    ("strata", "key"),
    [
        ({"n_strata": 2, "oversample": [1.0]}, "oversample"),
        ({"n_strata": 2, "oversample": [1.0, float("inf")]}, "oversample"),
        ({"min_test_blocks": 0}, "min_test_blocks"),
        ({"covariate": "second_year_mining"}, "covariate"),
    ],
)
def test_bad_strata_parameters_fail(strata: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _spec(**strata)


def test_fractions_must_be_finite() -> None:
    with pytest.raises(ValueError, match="fractions"):
        SplitSpec(fractions={"train": float("nan"), "val": 0.5, "test": 0.5})


def test_published_splits_through_the_catalog_warn_about_leakage(
    inventory: tuple, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf, inv, _ = inventory
    folder = tmp_path / "published"
    folder.mkdir()
    tiles = sorted(inv["tile_id"].unique())
    for year in (2016, 2022):
        split = ["train" if (int(t) + (year == 2022)) % 3 else "test" for t in tiles]
        pd.DataFrame(
            {
                "indices": range(len(tiles)),
                "split": split,
                "patch_name": [f"MASK_{t}_{year}.tif" for t in tiles],
            }
        ).to_csv(folder / f"split_{year}.csv", index=False)
    conf.point_raw("published_splits_raw", folder)
    conf.params["ingestion"]["split"]["method"] = "published"
    raw = conf.catalog_with_params().load("published_splits_raw")
    with caplog.at_level(logging.WARNING):
        splits = assign_splits(inv, raw, conf.typed("ingestion"))
    assert "different splits in different years" in caplog.text
    assert set(splits["split"]) == {"train", "val", "test"}
    # Missing files with method published: a clear error saying where they go.
    conf.point_raw("published_splits_raw", tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="split_<year>.csv"):
        assign_splits(
            inv, conf.catalog_with_params().load("published_splits_raw"), conf.typed("ingestion")
        )


# ---- model input ------------------------------------------------------------------
def _build(conf: ProjectConf, inv: pd.DataFrame, cocoa: object) -> tuple[dict, pd.DataFrame]:
    raw = conf.catalog_with_params().load("raw_tiles")
    splits = assign_splits(inv, None, conf.typed("ingestion"))
    return build_model_input(
        raw, inv, splits, cocoa, conf.typed("ingestion"), conf.typed("land_use")
    )


@pytest.mark.parametrize(("mode", "n_tiles"), [("pad", 32), ("keep", 32), ("skip", 18)])
def test_edge_tiles(inventory: tuple, mode: str, n_tiles: int) -> None:
    conf, inv, cocoa = inventory
    conf.params["ingestion"]["raster"]["edge_tiles"] = mode
    parts, manifest = _build(conf, inv, cocoa)
    assert len(manifest) == n_tiles
    assert len(parts) == 3 * n_tiles  # image, labels, DEM
    sizes = {r.data.shape[1:] for r in parts.values()}
    if mode == "keep":
        assert (32, 22) in sizes  # edge column: 32 - 10 px wide
    else:
        assert sizes == {(32, 32)}
    if mode == "pad":
        edge = manifest[manifest["edge_tile"]].iloc[0]
        lbl = parts[f"{edge['split']}/{edge['sample']}_lbl"].data[0]
        assert (lbl[:, -1] == 255).all() or (lbl[-1] == 255).all()


def test_model_input_layout_and_provenance(inventory: tuple) -> None:
    conf, inv, cocoa = inventory
    parts, manifest = _build(conf, inv, cocoa)
    row = manifest.iloc[0]
    img = parts[f"{row['split']}/{row['sample']}_img"]
    lbl = parts[f"{row['split']}/{row['sample']}_lbl"]
    dem = parts[f"{row['split']}/{row['sample']}_dem"]
    assert img.data.shape[0] == 6
    assert img.band_names == ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
    assert lbl.data.dtype == np.uint8 and lbl.nodata == 255
    assert set(np.unique(lbl.data)) <= {0, 1, 2, 255}
    assert row["image_path"].endswith(f"/{row['split']}/{row['sample']}_img.tif")
    fractions = manifest[["fraction_background", "fraction_mining", "fraction_cocoa"]].sum(axis=1)
    assert np.allclose(fractions, 1.0)
    # The selected bands are the raw bands 0, 1, 2, 7, 8, 9 (B2, B3, B4, B8A, B11, B12);
    # the DEM (band 13) travels with them for the risk pipeline.
    raw = read_raster(row["raw_image"]).data
    rows, cols = raw.shape[1:]
    np.testing.assert_array_equal(img.data[:, :rows, :cols], raw[[0, 1, 2, 7, 8, 9]])
    np.testing.assert_array_equal(dem.data[0, :rows, :cols], raw[12])
    # Provenance of the labels and the split in every row.
    assert set(manifest["mask_format"]) == {"mining"}
    assert set(manifest["cocoa_source"]) == {"raster"}
    assert set(manifest["cocoa_file"]) == {"cocoa_probability.tif"}
    assert set(manifest["cocoa_scale"]) == {100} and set(manifest["cocoa_threshold"]) == {0.65}
    assert manifest["split_hash"].nunique() == 1 and len(manifest["split_hash"].iloc[0]) == 16


def test_band_stats_from_training_split_only(inventory: tuple) -> None:
    conf, inv, cocoa = inventory
    parts, manifest = _build(conf, inv, cocoa)
    loaders = {k: (lambda r=r: r) for k, r in parts.items()}
    stats = compute_band_stats(loaders, manifest, conf.typed("ingestion"))
    train = [parts[k].data for k in parts if k.startswith("train/") and k.endswith("_img")]
    pixels = np.ma.masked_equal(np.concatenate([a.reshape(6, -1) for a in train], axis=1), -9999)
    np.testing.assert_allclose(stats["means"], pixels.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(stats["stds"], pixels.std(axis=1), rtol=1e-4)
    # Changing a validation image must not change the statistics.
    val_key = next(k for k in parts if k.startswith(("val/", "test/")) and k.endswith("_img"))
    parts[val_key].data[:] = 1e6
    assert compute_band_stats(loaders, manifest, conf.typed("ingestion"))["means"] == stats["means"]


def test_land_use_nodata_is_the_label_nodata(inventory: tuple) -> None:
    conf, inv, cocoa = inventory
    conf.params["land_use"]["nodata"] = 250
    LandUse.model_validate(conf.params["land_use"])
    parts, _ = _build(conf, inv, cocoa)
    labels = np.concatenate([p.data.ravel() for k, p in parts.items() if k.endswith("_lbl")])
    assert 250 in labels and 255 not in labels
