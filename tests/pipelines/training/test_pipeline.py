"""The training pipeline end to end on CPU: all three models, same code path as real runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from kedro.runner import SequentialRunner

from cocoa_threat.models.factory import model_from_build_config
from cocoa_threat.pipelines.training import create_pipeline
from tests.conftest import ProjectConf


def test_training_pipeline_trains_and_evaluates_all_models(ingested: ProjectConf) -> None:
    catalog = ingested.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

    table = catalog.load("model_comparison")
    assert set(table["model"]) == {"prithvi", "resnet50", "random_forest", "majority_class"}
    assert set(table["year"].astype(str)) == {"2016", "2022", "all"}
    assert table["miou"].between(0, 1).all()
    markdown = catalog.load("model_comparison_markdown")
    assert markdown.startswith("| model | year | miou |")

    for name in ("prithvi", "resnet50"):
        metrics = catalog.load(f"{name}.metrics")
        assert metrics["validation"]["miou"] is not None
        cm = metrics["test"]["all"]["confusion_matrix"]
        assert len(cm) == 3 and sum(map(sum, cm)) == metrics["test"]["all"]["n_pixels"] > 0
        # The weights are a plain state_dict that loads safely and fits the rebuilt model.
        weights_dir = Path(ingested.root, "data/06_models", name, "weights.pt")
        weights_file = next(weights_dir.glob("*/weights.pt"))
        state = torch.load(weights_file, weights_only=True)
        build = catalog.load(f"{name}.build_config")
        model = model_from_build_config(build, state)
        assert sum(p.numel() for p in model.parameters()) > 0
        assert "backbone_ckpt_path" not in build["model_args"]
        # Lightning checkpoints and logs under data/06_models/<model>/.
        run_dir = Path(ingested.root, "data/06_models", name)
        assert (run_dir / "checkpoints" / "last.ckpt").is_file()
        assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
        assert any((run_dir / "csv").rglob("metrics.csv"))
    for figure in ("confusion_matrix", "training_curves"):
        assert Path(ingested.root, f"data/08_reporting/figures/resnet50_{figure}.png").is_file()
    forest = catalog.load("random_forest.weights")
    assert forest.n_estimators == 10


def test_val_and_test_never_overlap(ingested: ProjectConf) -> None:
    catalog = ingested.catalog_with_params()
    manifest: pd.DataFrame = catalog.load("tile_manifest")
    tiles = {
        s: set(manifest.loc[manifest["split"] == s, "tile_id"]) for s in ("train", "val", "test")
    }
    assert tiles["val"] and tiles["test"]
    assert not tiles["val"] & tiles["test"]
    assert not tiles["train"] & (tiles["val"] | tiles["test"])
