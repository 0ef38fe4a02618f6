"""The reference-sample kit on the tiny demo region: draw, label, read back, adjust."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from kedro.runner import SequentialRunner
from PIL import Image

from cocoa_threat.analysis.reference_sample import MAP_AREA_SOURCE, LabelError
from cocoa_threat.pipelines.reference_sample import create_pipeline
from tests.conftest import ProjectConf
from tests.pipelines.shared import clone
from tests.project.cli import kedro, project_copy

SMALL = {"target_se": 0.03, "min_per_stratum": 10}


def _run(conf: ProjectConf, **params: object) -> object:
    conf.params["reference_sample"].update({**SMALL, **params})
    catalog = conf.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def test_demo_sample_labelled_from_its_own_labels(transitioned: ProjectConf) -> None:
    catalog = _run(transitioned, demo_labels_from="labels")
    points = catalog.load("reference_sample")
    table = catalog.load("reference_sample_csv")
    design = catalog.load("reference_sample_design")
    assert isinstance(points, gpd.GeoDataFrame) and points.crs.to_epsg() == 32630
    assert list(table.columns) == [
        "id",
        "stratum",
        "map_class",
        "reference_class",
        "x",
        "y",
        "lon",
        "lat",
        "inclusion_probability",
    ]
    assert table["reference_class"].isna().all() and table["id"].is_unique
    assert (design["n_points"] >= np.minimum(design["n_pixels"], 10)).all()
    assert "cocoa -> mining" in set(design["stratum"])
    per = table.groupby("stratum").size()
    for d in design.itertuples():
        assert per.get(d.stratum, 0) == d.n_points
        chosen = table.loc[table["stratum"] == d.stratum, "inclusion_probability"]
        assert np.allclose(chosen, d.n_points / d.n_pixels)
    chips = sorted(Path(transitioned.catalog["reference_sample_chips"]["path"]).glob("*.png"))
    assert len(chips) == len(table)
    assert Image.open(chips[0]).size == (2 * 32 * 4 + 4, 32 * 4)

    areas = catalog.load("reference_sample_areas").set_index("class")
    labelled = catalog.load("reference_sample_labelled")
    assert (
        areas["source"]
        .str.startswith(f"error-adjusted (reference sample of {len(labelled)} points")
        .all()
    )
    assert areas["map_ha"].sum() == pytest.approx(design["area_ha"].sum())
    finite = areas.dropna(subset=["ci_low_ha"])
    assert len(finite) and (finite["ci_low_ha"] <= finite["adjusted_ha"]).all()
    assert (finite["adjusted_ha"] <= finite["ci_high_ha"]).all()
    # The demo's labels cover (almost) every pixel: their census is the truth the kit estimates.
    census = catalog.load("area_estimates")
    census = census[census["population"] == "whole region"].set_index("quantity")["census_ha"]
    for cls, r in areas.iterrows():
        truth = census[f"{cls} (after)"]
        assert abs(r["adjusted_ha"] - truth) < 3 * r["se_ha"] + 0.02 * truth, (cls, r, truth)


def test_user_labels_checked_then_used(transitioned: ProjectConf) -> None:
    catalog = _run(transitioned, demo_labels_from="none", chips={"enabled": False})
    areas = catalog.load("reference_sample_areas")
    assert (areas["source"] == MAP_AREA_SOURCE).all() and areas["adjusted_ha"].isna().all()

    table = catalog.load("reference_sample_csv")
    labels = table[["id"]].assign(reference_class=table["map_class"])
    labels.loc[labels.index[:2], "reference_class"] = ["forest", ""]
    labels = pd.concat([labels, labels.iloc[[5]]])
    path = Path(transitioned.catalog["reference_labels"]["filepath"])
    path.parent.mkdir(parents=True, exist_ok=True)
    labels.to_csv(path, index=False)
    with pytest.raises(LabelError) as err:
        _run(transitioned)  # the same seed draws the same sample
    text = str(err.value)
    ids = table["id"].tolist()
    assert f"{ids[0]} ('forest')" in text
    assert f"without a reference_class: {ids[1]}" in text
    assert f"more than once: {ids[5]}" in text

    labels = labels.drop_duplicates("id").assign(reference_class=table["map_class"].to_numpy())
    labels.to_csv(path, index=False)
    catalog = _run(transitioned)
    areas = catalog.load("reference_sample_areas").set_index("class")
    assert areas["source"].eq(f"error-adjusted (reference sample of {len(table)} points)").all()
    # Labels that agree with the map everywhere: the adjusted areas are the mapped ones.
    assert np.allclose(areas["adjusted_ha"], areas["map_ha"])


def test_cli_run_on_the_demo(transitioned_stage: ProjectConf, tmp_path: Path) -> None:
    root = project_copy(tmp_path / "project")
    clone(transitioned_stage, root)
    params = "reference_sample.target_se=0.05,reference_sample.min_per_stratum=5"
    result = kedro(root, "run", "--pipeline=reference_sample", "--params", params, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    areas = pd.read_csv(root / "data/08_reporting/reference_sample_areas.csv")
    assert areas["source"].str.startswith("error-adjusted").all()
    assert (root / "data/08_reporting/reference_sample.gpkg").is_file()

    (root / "data/01_raw").mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": [1, 1, 2], "reference_class": ["mining", "mining", "lake"]}).to_csv(
        root / "data/01_raw/reference_labels.csv", index=False
    )
    bad = kedro(root, "run", "--pipeline=reference_sample", "--params", params, timeout=300)
    assert bad.returncode != 0
    out = bad.stdout + bad.stderr
    assert "more than once: 1" in out and "2 ('lake')" in out and "missing from the file" in out
