"""A conf environment is one switch: `kedro run --env=<env>` reads that environment's data.

The tests run the real command line in a copy of the project, as users run it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cocoa_threat.geo.raster import read_raster
from tests.conftest import TINY_REGION
from tests.project.cli import kedro, project_copy
from tests.project.released import add_environment, mining_of, write_released

# The tiny region's sizes, as --params (the folder is the user's; the demo is not run).
TINY_PARAMS = [
    "ingestion.source=local",
    f"ingestion.raster.tile_size={TINY_REGION['tile_size']}",
    "ingestion.split.block_size=1",
    "ingestion.split.strata.n_strata=1",  # 16 blocks: one stratum of test blocks
]


def _manifest(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "data/05_model_input/tile_manifest.csv", dtype={"tile_id": str})


def _check_holds_folder(root: Path, tiles: Path) -> None:
    manifest = _manifest(root)
    folder_ids = {p.stem.split("_")[2] for p in tiles.glob("*/MASK/*.tif")}
    assert set(manifest["tile_id"]) == folder_ids
    # Known labels: the mining of every label tile is its mask's mining in that folder.
    for row in manifest.itertuples():
        mask = tiles / str(row.year) / "MASK" / f"MASK_GH_{row.tile_id}_{row.year}.tif"
        labels = read_raster(root / row.label_path).data[0]
        mined = mining_of(mask)  # edge tiles are padded to the tile size
        labels = labels[: mined.shape[0], : mined.shape[1]]
        labelled = labels != 255  # no label where the image has no data
        np.testing.assert_array_equal((labels == 1)[labelled], mined[labelled])


def test_env_option_and_kedro_env_read_the_same_folder(tmp_path: Path) -> None:
    root = project_copy(tmp_path / "project")
    raw = write_released(tmp_path / "mydata", **TINY_REGION, tile_id_start=5000)
    add_environment(root, "mine", raw)
    params = ",".join(TINY_PARAMS)
    result = kedro(root, "run", "--pipeline=ingestion", "--env=mine", "--params", params)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    _check_holds_folder(root, raw["tiles"])
    # No demo region was generated: the base environment's raw paths were never touched.
    assert not (root / "data/01_raw/demo").exists()

    os.environ["KEDRO_ENV"] = "mine"
    # ... training one model only: base's other model blocks stay known (not "unknown keys").
    params += ",training.models=[random_forest]"
    try:
        again = kedro(root, "run", "--pipeline=ingestion", "--params", params)
    finally:
        del os.environ["KEDRO_ENV"]
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    _check_holds_folder(root, raw["tiles"])


def _cpu(max_epochs: int = 1) -> dict:
    return {
        "data": {"batch_size": 8},
        "trainer": {
            "max_epochs": max_epochs,
            "accelerator": "cpu",
            "devices": 1,
            "precision": "32-true",
            "log_every_n_steps": 1,
            "enable_progress_bar": False,
        },
    }


# The only departures from conf/smallminesds: a small generated dataset (32 px tiles, not
# 128; 16 blocks of 4 x 4 tiles, not ~150, so one stratum and a quarter of the blocks in
# the test sample, or the design could not draw its 2 test blocks per stratum), one seed and
# one epoch on the CPU, and Prithvi's tiny backbone (4 blocks) in place of the 300M one,
# with a generated checkpoint at the environment's local weights path.
SMALL_STUDY: dict = {
    "ingestion": {
        "raster": {"tile_size": 32},
        "split": {
            "strata": {"n_strata": 1},
            "fractions": {"train": 0.5, "val": 0.25, "test": 0.25},
        },
    },
    "training": {"seeds": [42]},
    "prithvi": {
        "model": {
            "model_args": {
                "backbone": "prithvi_eo_tiny",
                "necks": [
                    {"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                    {"name": "ReshapeTokensToImage"},
                    {"name": "LearnedInterpolateToPyramidal"},
                ],
                "decoder_channels": 16,
            },
            **_cpu(),
        }
    },
    "resnet50": {"model": _cpu()},
    "random_forest": {"model": {"pixels_per_class": 500, "n_estimators": 10}},
}


def _tiny_prithvi_checkpoint(path: Path, bands: list[str]) -> None:
    import torch
    from terratorch.registry import BACKBONE_REGISTRY

    torch.manual_seed(0)
    backbone = BACKBONE_REGISTRY.build("prithvi_eo_tiny", pretrained=False, bands=bands)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(backbone.state_dict(), path)


def test_the_real_study_environment_runs_end_to_end(tmp_path: Path) -> None:
    import yaml

    root = project_copy(tmp_path / "project")
    # Released layout: 1-band masks, cocoa as 0-1 floats (the environment's scale: 1).
    region = {**TINY_REGION, "n_tiles_x": 16, "n_tiles_y": 16}
    layer = {"scale": 1.0, "dtype": "float32", "nodata": -1.0}
    raw = write_released(tmp_path / "released", **region, cocoa_layer=layer)
    add_environment(root, "study", raw, layered_on="smallminesds", overrides=SMALL_STUDY)
    env = yaml.safe_load((root / "conf/smallminesds/parameters_training.yml").read_text())
    weights = env["prithvi"]["model"]["weights"]
    assert weights["source"] == "local"  # the environment's own weights path is exercised
    bands = yaml.safe_load((root / "conf/base/parameters_ingestion.yml").read_text())
    _tiny_prithvi_checkpoint(root / weights["local_path"], bands["ingestion"]["bands"])

    result = kedro(root, "run", "--env=study", timeout=1500)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    _check_holds_folder(root, raw["tiles"])
    manifest = _manifest(root)
    assert set(manifest["cocoa_source"]) == {"raster"} and manifest["fraction_cocoa"].mean() > 0.2
    splits = manifest.drop_duplicates("tile_id").groupby("block")["split"].nunique()
    assert (splits == 1).all() and manifest["block"].nunique() == 16  # blocks of 4 x 4 tiles
    report = (root / "data/08_reporting/report.html").read_text()
    assert "SYNTHETIC demo region" not in report  # a local dataset, not the demo
    for name in ("risk_map.tif", "land_use_after.tif", "mercury_surface.tif"):
        assert (root / "data/07_model_output" / name).is_file()
    assert not (root / "data/01_raw/demo").exists()


SHAPE = """
import sys
from pathlib import Path
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())
for env in (sys.argv[1], None):  # a session of the environment, then of base
    with KedroSession.create(env=env) as session:
        session.load_context()
        print(env, sorted(n.name for n in pipelines["__default__"].nodes))
"""


def test_the_pipelines_follow_the_environment_s_models_and_source(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = project_copy(tmp_path / "project")
    env = add_environment(root, "forest_only", {})
    (env / "parameters.yml").write_text(
        "training:\n  models: [random_forest]\ningestion:\n  source: local\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", SHAPE, "forest_only"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    forest, base = run.stdout.strip().splitlines()[-2:]
    assert "training.random_forest.train_model" in forest
    assert "prithvi" not in forest and "resnet50" not in forest
    assert "demo." not in forest  # local data: no demo generator in the run
    # The same process, a session of base: the registry follows (it is rebuilt).
    assert "training.prithvi.train_model" in base and "demo.demo_tiles" in base
