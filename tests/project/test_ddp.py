"""Lightning DDP from `kedro run`: the training node spawns the ranks; kedro runs once.

The 2-process test runs the real command line in a copy of the project, on the CPU (gloo),
on the tiny region: 32 px tiles, one seed, one epoch of the ResNet50 U-Net.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cocoa_threat.hooks import ProjectLockHook
from cocoa_threat.locking import SeveralProcessesError, refuse_several_processes
from tests.conftest import TINY_REGION
from tests.project.cli import kedro, project_copy

BATCH = 4
TINY = [
    *(f"demo.{k}={v}" for k, v in TINY_REGION.items()),
    f"ingestion.raster.tile_size={TINY_REGION['tile_size']}",
    "ingestion.split.block_size=1",
    "ingestion.split.strata.n_strata=1",  # 16 blocks: one stratum of test blocks
]
TRAIN = [
    "training.seeds=[42]",
    "training.test_intervals.min_blocks=2",
    *(
        f"resnet50.model.{k}"
        for k in (
            f"data.batch_size={BATCH}",
            "trainer.accelerator=cpu",
            "trainer.devices=2",
            "trainer.strategy=ddp",
            "trainer.max_epochs=1",
            "trainer.log_every_n_steps=1",
            "trainer.enable_progress_bar=false",
        )
    ),
]


def _run(root: Path, *args: str, params: list[str]) -> str:
    result = kedro(root, "run", *args, "--params", ",".join(params), timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def _val_miou_of_saved_model(root: Path, version_dir: Path) -> float:
    """mIoU of the saved model on the WHOLE val split, in this (one) process."""
    from torchmetrics.classification import MulticlassJaccardIndex

    from cocoa_threat.geo.raster import read_raster
    from cocoa_threat.models.data import load_training_data
    from cocoa_threat.models.factory import load_model

    model = load_model(version_dir)
    cfg = model.build_config
    patches = root / "data/05_model_input/patches"
    parts = {f"val/{p.stem}": (lambda p=p: read_raster(p)) for p in patches.glob("val/*.tif")}
    manifest = pd.read_csv(root / "data/05_model_input/tile_manifest.csv", dtype={"tile_id": str})
    stats = {"bands": cfg["bands"], "means": cfg["means"], "stds": cfg["stds"]}
    val = load_training_data(
        parts,
        manifest,
        stats,
        cfg["class_names"],
        cfg["ignore_index"],
        cfg["image_nodata"],
        splits=("val",),
    ).splits["val"]
    predicted = model.proba(val.images).argmax(axis=1)
    metric = MulticlassJaccardIndex(
        num_classes=len(cfg["class_names"]), ignore_index=cfg["ignore_index"], average="macro"
    )
    return float(metric(torch.from_numpy(predicted), torch.from_numpy(val.labels.astype(np.int64))))


@pytest.mark.slow
def test_two_processes_train_from_kedro_run_and_write_once(tmp_path: Path) -> None:
    root = project_copy(tmp_path / "project")
    _run(root, "--pipeline=ingestion", params=TINY)
    (root / "info.log").unlink()
    output = _run(
        root, "--pipeline=training", "--namespaces=training.resnet50", params=TINY + TRAIN
    )
    log = (root / "info.log").read_text()  # the project's log file: unwrapped lines

    # Two ranks trained (gloo), spawned by the training node; kedro ran every node once.
    assert "resnet50: training on CPU (32-true precision) in 2 process(es) (DDP" in log
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in log
    for node in ("prepare_training_data", "train_model", "evaluate_on_test_split"):
        assert log.count(f"Completed node: training.resnet50.{node}") == 1, node
    assert log.count("Kedro project cocoa_threat") == 1  # no rank started kedro again
    assert "ProjectBusyError" not in output + log
    assert "sync_dist=True" not in log  # Lightning's advice is moot: the metrics are synced

    # One model version, written once; the metrics JSON names it.
    [version_dir] = (root / "data/06_models/trained/resnet50").iterdir()
    [saved] = version_dir.iterdir()
    manifest = json.loads((saved / "model.json").read_text())
    metrics = json.loads((root / "data/08_reporting/metrics/resnet50.json").read_text())
    assert metrics["model_version"] == version_dir.name
    assert sorted(p.name for p in (root / "data/08_reporting/metrics").iterdir()) == [
        "resnet50.json"
    ]

    # Rank 0 alone wrote the logs and checkpoints: one CSV log, one epoch checkpoint.
    run_dir = root / "data/06_models/lightning/resnet50/seed_42"
    [csv_log] = (run_dir / "csv").iterdir()
    history = pd.read_csv(csv_log / "metrics.csv")
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "best.ckpt",
        "epoch-000.ckpt",
    ]
    assert json.loads((run_dir / "run_config.json").read_text())["processes"] == 2
    # Each rank took half the training patches: the steps of one epoch are those of half.
    tiles = pd.read_csv(root / "data/05_model_input/tile_manifest.csv")
    n_train = int((tiles["split"] == "train").sum())
    epoch = torch.load(run_dir / "checkpoints/epoch-000.ckpt", weights_only=True, mmap=True)
    assert epoch["global_step"] == math.ceil(math.ceil(n_train / 2) / BATCH)
    assert epoch["global_step"] < math.ceil(n_train / BATCH)

    # The validation score is rank 0's record, and it covers the whole val split (the ranks'
    # halves synchronised): it is what the saved model scores on all val patches here.
    val_miou = metrics["validation"]["miou"]
    assert val_miou == manifest["training"]["val_miou"]
    assert val_miou == pytest.approx(history["val/mIoU"].dropna().max(), abs=1e-6)
    assert val_miou == pytest.approx(_val_miou_of_saved_model(root, saved), abs=1e-3)
    assert 0 <= metrics["test"]["all"]["miou"] <= 1


def test_a_strategy_kedro_run_cannot_launch_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    root = project_copy(tmp_path / "project")
    params = [*TINY, "resnet50.model.trainer.num_nodes=2", "prithvi.model.trainer.strategy=fsdp"]
    result = kedro(root, "run", "--pipeline=training", "--params", ",".join(params))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    said = " ".join(output.split())
    # Kedro builds each model block before the first node; the message names the block.
    assert "parameter 'resnet50.model'" in said and "parameter 'prithvi.model'" in said
    assert "trainer: num_nodes: 2: training on several nodes" in said
    assert "set num_nodes: 1" in said
    assert "trainer: strategy: fsdp is launched by running the command again" in said
    assert not any((root / "data").rglob("*.*"))  # nothing ran, nothing written


@pytest.mark.parametrize(
    ("variable", "size"), [("WORLD_SIZE", "2"), ("SLURM_STEP_NUM_TASKS", "4"), ("PMI_SIZE", "8")]
)
def test_a_run_started_as_one_of_several_processes_stops_before_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, size: str
) -> None:
    monkeypatch.setenv(variable, size)
    with pytest.raises(SeveralProcessesError, match=rf"{variable}={size}.*strategy: ddp"):
        ProjectLockHook().before_pipeline_run({"project_path": tmp_path}, None, None)  # type: ignore[arg-type]
    assert not (tmp_path / "data" / ".lock").exists()


def test_one_process_of_a_launcher_is_fine() -> None:
    refuse_several_processes({"WORLD_SIZE": "1", "SLURM_STEP_NUM_TASKS": "1", "LOCAL_RANK": "0"})


def test_the_tracking_logger_reaches_spawned_ranks(tmp_path: Path) -> None:
    # DDP's spawned ranks get the trainer pickled; the MLflow logger must log into the same run.
    mlflow = pytest.importorskip("mlflow")
    from multiprocessing.reduction import ForkingPickler

    from mlflow.tracking import MlflowClient

    from cocoa_threat.tracking import lightning_loggers

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("test")
    with mlflow.start_run() as run:
        [sent] = lightning_loggers("resnet50.seed_42")
        received = ForkingPickler.loads(bytes(ForkingPickler.dumps(sent)))
        assert received is not sent and received.run_id == run.info.run_id
        received.log_metrics({"val/mIoU": 0.5}, step=0)
        received.finalize("success")
        assert mlflow.active_run().info.run_id == run.info.run_id  # left open for Kedro
    history = MlflowClient().get_metric_history(run.info.run_id, "resnet50.seed_42-val/mIoU")
    assert [m.value for m in history] == [0.5]
