"""The training pipeline end to end on CPU: all three models, same code path as real runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from kedro.runner import SequentialRunner

from cocoa_threat.models.base import read_manifest
from cocoa_threat.models.factory import load_model
from cocoa_threat.pipelines.training import create_pipeline
from tests.conftest import ProjectConf


def test_training_pipeline_trains_and_evaluates_all_models(ingested: ProjectConf) -> None:
    catalog = ingested.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

    table = catalog.load("model_comparison")
    assert set(table["model"]) == {"prithvi", "resnet50", "random_forest", "majority_class"}
    assert set(table["year"].astype(str)) == {"2016", "2022", "all"}
    assert table["miou"].between(0, 1).all()
    # Every score has an interval from its whole test blocks around it.
    assert (table["miou_ci_low"] <= table["miou"] + 1e-9).all()
    assert (table["miou"] <= table["miou_ci_high"] + 1e-9).all()
    overall = table[table["year"].astype(str) == "all"].set_index("model")
    assert overall["comparison"].str.contains("distinguishable").all()
    metrics = catalog.load("resnet50.metrics")
    assert [s["seed"] for s in metrics["seeds"]] == ingested.params["training"]["seeds"]
    assert len(metrics["test_tiles"]) == metrics["n_test_patches"]
    markdown = catalog.load("model_comparison_markdown")
    assert markdown.startswith("| model | year | mIoU [95% CI] |")
    assert "not distinguishable" in markdown or "distinguishable from every" in markdown

    for name in ("prithvi", "resnet50"):
        metrics = catalog.load(f"{name}.metrics")
        assert metrics["validation"]["miou"] is not None
        cm = metrics["test"]["all"]["confusion_matrix"]
        assert len(cm) == 3 and sum(map(sum, cm)) == metrics["test"]["all"]["n_pixels"] > 0
        # The trained model is a catalog dataset: a versioned folder with model.json
        # (build config, file hashes) and a plain state_dict, no pretrained paths.
        trained = catalog.load(f"{name}.trained_model")
        assert trained.version == metrics["model_version"]
        folder = Path(ingested.root, "data/06_models/trained", name, trained.version, name)
        manifest = read_manifest(folder)
        assert set(manifest["files"]) == {"weights.pt"}
        assert "backbone_ckpt_path" not in manifest["build_config"]["model_args"]
        assert manifest["build_config"]["split_hash"] == metrics["split_hash"]
        again = load_model(folder)
        x = np.random.default_rng(0).normal(size=(1, len(again.bands), 32, 32))
        np.testing.assert_allclose(
            again.proba(x.astype(np.float32)), trained.proba(x.astype(np.float32)), atol=1e-5
        )
        # Lightning checkpoints and logs in their own folder, apart from the catalog's.
        run_dir = Path(ingested.root, "data/06_models/lightning", name, "seed_42")
        assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
            "best.ckpt",
            "epoch-000.ckpt",
        ]
        assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
        assert any((run_dir / "csv").rglob("metrics.csv"))
    for figure in ("confusion_matrix", "training_curves"):
        assert Path(ingested.root, f"data/08_reporting/figures/resnet50_{figure}.png").is_file()
    forest = catalog.load("random_forest.trained_model")
    assert forest.forest.n_estimators == 10
    assert set(table["model_version"].dropna()) == {
        catalog.load(f"{m}.trained_model").version for m in ("prithvi", "resnet50", "random_forest")
    }


def test_val_and_test_never_overlap(ingested: ProjectConf) -> None:
    catalog = ingested.catalog_with_params()
    manifest: pd.DataFrame = catalog.load("tile_manifest")
    tiles = {
        s: set(manifest.loc[manifest["split"] == s, "tile_id"]) for s in ("train", "val", "test")
    }
    assert tiles["val"] and tiles["test"]
    assert not tiles["val"] & tiles["test"]
    assert not tiles["train"] & (tiles["val"] | tiles["test"])


def test_seeds_train_several_models_and_keep_the_best_on_validation(
    ingested: ProjectConf,
) -> None:
    ingested.params["training"]["seeds"] = [1, 2, 3]
    catalog = ingested.catalog_with_params()
    forest = create_pipeline().only_nodes_with_namespaces(["random_forest"])
    SequentialRunner().run(forest, catalog)
    metrics = catalog.load("random_forest.metrics")
    seeds = metrics["seeds"]
    assert [s["seed"] for s in seeds] == [1, 2, 3]
    kept = [s for s in seeds if s["kept"]]
    assert len(kept) == 1 and kept[0]["val_miou"] == max(s["val_miou"] for s in seeds)
    assert catalog.load("random_forest.trained_model").build_config["seed"] == kept[0]["seed"]
    assert len({round(s["test_miou"], 6) for s in seeds}) > 1  # the seeds do differ
    from cocoa_threat.pipelines.training.nodes import compare_models

    row = compare_models(ingested.typed("training"), metrics).iloc[2]
    assert row["n_seeds"] == 3 and row["miou_seed_sd"] > 0
