"""Experiment tracking with the [mlflow] extra: one run per kedro run, only with --env=mlflow."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("kedro_mlflow", reason='needs the tracking extra: pip install -e ".[mlflow]"')

from mlflow.tracking import MlflowClient  # noqa: E402

from tests.project.cli import kedro, project_copy  # noqa: E402

TINY = ",".join(
    [
        "demo.n_tiles_x=4",
        "demo.n_tiles_y=4",
        "demo.tile_size=32",
        "demo.edge_trim_x=10",
        "demo.edge_trim_y=13",
        "ingestion.raster.tile_size=32",
        "ingestion.split.block_size=1",
        "random_forest.model.n_estimators=10",
        "random_forest.model.pixels_per_class=500",
        "training.seeds=[42]",
        "training.test_intervals.min_blocks=2",
        "ingestion.split.strata.n_strata=1",
    ]
)


# ... and the rest of the chain in seconds (as tests/pipelines/shared.py shrinks it).
WHOLE_CHAIN = ",".join(
    [
        TINY,
        "prithvi.model.trainer.max_epochs=1",
        "resnet50.model.trainer.max_epochs=1",
        "prithvi.model.model_args.decoder_channels=16",
        "transition.min_test_units=2",
        "mercury.interpolation.cv_block_size_m=400.0",
    ]
)


def _kedro(root: Path, *args: str, params: str = TINY) -> None:
    result = kedro(root, "run", *args, "--params", params, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_a_tracked_run_logs_parameters_scores_and_artifacts(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    store = root / "data" / "09_tracking" / "mlflow.db"
    _kedro(root, "--pipeline=ingestion")  # the default environment tracks nothing
    assert not store.exists()
    _kedro(root, "--env=mlflow", "--pipeline=training", "--namespaces=training.random_forest")

    client = MlflowClient(f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("cocoa_threat")
    [run] = client.search_runs([experiment.experiment_id])  # one MLflow run per kedro run
    assert run.info.status == "FINISHED"
    assert run.data.params["random_forest.model.n_estimators"] == "10"
    assert 0 <= run.data.metrics["random_forest.test.all.miou"] <= 1
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    # One model's namespace trains and scores it; `--pipeline=comparison` compares.
    assert {"metrics", "models", "figures"} <= artifacts
    model_files = {a.path for a in client.list_artifacts(run.info.run_id, "models/random_forest")}
    assert model_files == {"models/random_forest/model.json", "models/random_forest/forest.skops"}
    assert (root / "data" / "09_tracking" / "artifacts").is_dir()  # the store stays under data/


def test_the_whole_study_runs_in_the_tracking_environment(tmp_path: Path) -> None:
    # conf/mlflow replaces catalog entries of conf/base whole: every pipeline must still run.
    root = project_copy(tmp_path)
    _kedro(root, "--env=mlflow", params=WHOLE_CHAIN)
    client = MlflowClient(f"sqlite:///{root / 'data' / '09_tracking' / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("cocoa_threat").experiment_id])
    assert run.info.status == "FINISHED"
    assert "comparison" in {a.path for a in client.list_artifacts(run.info.run_id)}
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "metrics")}
    assert logged == {f"metrics/{m}.json" for m in ("prithvi", "resnet50", "random_forest")}
    assert (root / "data" / "08_reporting" / "report.html").is_file()
    assert (root / "data" / "07_model_output" / "risk_map.tif").is_file()


def test_lightning_epochs_go_into_the_active_run(tmp_path: Path) -> None:
    import mlflow

    from cocoa_threat.models.training import fit_segmentation_model
    from tests.models.test_training import _conf_block, _spec, tiny_training_data

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("test")
    block = _conf_block(tmp_path, "prithvi")
    block["trainer"]["max_epochs"] = 2
    with mlflow.start_run() as run:
        fit_segmentation_model(
            tiny_training_data(), _spec(block, "prithvi"), "prithvi", tmp_path / "run", seed=42
        )
        assert mlflow.active_run().info.run_id == run.info.run_id  # left open for Kedro
    history = MlflowClient().get_metric_history(run.info.run_id, "prithvi.seed_42-val/mIoU")
    assert [m.step for m in history] and len(history) == 2
