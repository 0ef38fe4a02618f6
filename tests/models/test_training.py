"""The Lightning/TerraTorch glue on CPU with tiny models and random patches."""

from __future__ import annotations

import copy
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from cocoa_threat.errors import ParameterError, SourceUnavailableError
from cocoa_threat.models.data import SplitArrays, TrainingData
from cocoa_threat.models.terratorch_build import build_model, training_args
from cocoa_threat.models.training import (
    LocalProcesses,
    RunCheckpoints,
    _read_back,
    build_task,
    fit_segmentation_model,
    lightning_strategy,
)
from cocoa_threat.params.training import DeepModelParams, parse_model_params
from tests.conftest import load_project_conf

BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]


def _split(rng: np.random.Generator, n: int, year: int) -> SplitArrays:
    images = rng.standard_normal((n, 6, 32, 32)).astype(np.float32)
    labels = np.digitize(images[:, 3], [-0.5, 0.5]).astype(np.uint8)  # learnable from band 4
    labels[:, :2] = 255
    return SplitArrays(images, labels, [f"s{i}" for i in range(n)], np.full(n, year))


def tiny_training_data() -> TrainingData:
    """Random 6-band patches with labels learnable from band 4."""
    rng = np.random.default_rng(0)
    return TrainingData(
        splits={
            "train": _split(rng, 8, 2016),
            "val": _split(rng, 4, 2016),
            "test": _split(rng, 4, 2022),
        },
        bands=BANDS,
        means=[0.0] * 6,
        stds=[1.0] * 6,
        class_names=["background", "mining", "cocoa"],
        ignore_index=255,
        image_nodata=-9999.0,
    )


@pytest.fixture
def data() -> TrainingData:
    return tiny_training_data()


def _conf_block(tmp_path: Path, name: str) -> dict:
    """The model block of the project's own conf, shrunk for a CPU test."""
    block = copy.deepcopy(load_project_conf(tmp_path).params[name]["model"])
    block["data"]["batch_size"] = 4
    block["trainer"].update({"max_epochs": 1, "enable_progress_bar": False, "log_every_n_steps": 1})
    if name == "prithvi":
        block["model_args"]["decoder_channels"] = 16
    return block


def _spec(block: dict, name: str) -> DeepModelParams:
    spec = parse_model_params(block, f"{name}.model")
    assert isinstance(spec, DeepModelParams)
    return spec


def test_local_prithvi_checkpoint_is_loaded_and_frozen(data: TrainingData, tmp_path: Path) -> None:
    from terratorch.registry import BACKBONE_REGISTRY

    torch.manual_seed(123)
    backbone = BACKBONE_REGISTRY.build(
        "prithvi_eo_tiny", pretrained=False, bands=BANDS, num_frames=1
    )
    saved = {k: v.clone() for k, v in backbone.state_dict().items()}
    ckpt = tmp_path / "Prithvi_tiny.pt"
    torch.save(saved, ckpt)

    block = _conf_block(tmp_path, "prithvi")
    block["weights"] = {"source": "local", "local_path": str(ckpt)}
    block["freeze_backbone"] = True
    result = fit_segmentation_model(data, _spec(block, "prithvi"), "prithvi", tmp_path / "run")

    encoder = {
        k.removeprefix("encoder."): v
        for k, v in result.state_dict.items()
        if k.startswith("encoder.")
    }
    assert set(saved) <= set(encoder)
    for key, value in saved.items():
        assert torch.equal(encoder[key], value), key
    # The saved build config rebuilds without the checkpoint (weights come from the state_dict).
    assert result.build_config["model_args"]["backbone_pretrained"] is False
    assert "backbone_ckpt_path" not in result.build_config["model_args"]
    # A randomly initialised model differs from the checkpoint, so the check above is meaningful.
    random_model = build_model("EncoderDecoderFactory", result.build_config["model_args"])
    assert not torch.equal(
        random_model.encoder.state_dict()["blocks.0.attn.qkv.weight"],
        saved["blocks.0.attn.qkv.weight"],
    )


def test_huggingface_weights_offline_fail_before_training(
    data: TrainingData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(**kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", offline)
    block = _conf_block(tmp_path, "prithvi")
    block["weights"]["source"] = "huggingface"
    with pytest.raises(SourceUnavailableError) as info:
        fit_segmentation_model(data, _spec(block, "prithvi"), "prithvi", tmp_path / "run")
    message = str(info.value)
    assert "Prithvi_EO_V2_300M.pt" in message
    assert "prithvi.model.weights.source: local" in message
    assert "prithvi.model.weights.local_path" in message
    assert not (tmp_path / "run").exists()  # nothing started


def test_missing_local_checkpoint_names_the_parameter(data: TrainingData, tmp_path: Path) -> None:
    block = _conf_block(tmp_path, "prithvi")
    block["weights"] = {"source": "local", "local_path": str(tmp_path / "nope.pt")}
    with pytest.raises(FileNotFoundError, match=r"prithvi\.model\.weights\.local_path"):
        fit_segmentation_model(data, _spec(block, "prithvi"), "prithvi", tmp_path / "run")


class Killed(Exception):
    """Stands for a kill -9 in the middle of training."""


class KillAt(Callback):
    """Stop the run after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            raise Killed(f"killed in epoch {self.epoch}, batch {batch_idx}")


def _fit(data: TrainingData, block: dict, run_dir: Path, *callbacks: Callback):  # noqa: ANN202
    return fit_segmentation_model(
        data, _spec(block, "prithvi"), "prithvi", run_dir, extra_callbacks=list(callbacks), seed=7
    )


@pytest.mark.parametrize(("epoch", "batch"), [(1, 0), (2, 1)])
def test_a_killed_run_resumes_to_the_same_weights_as_an_unbroken_one(
    data: TrainingData, tmp_path: Path, caplog: pytest.LogCaptureFixture, epoch: int, batch: int
) -> None:
    block = _conf_block(tmp_path, "prithvi")
    block["trainer"]["max_epochs"] = 3
    block["data"]["augment"] = True
    unbroken = _fit(data, block, tmp_path / "unbroken")

    with pytest.raises(Killed):
        _fit(data, block, tmp_path / "killed", KillAt(epoch, batch))
    saved = sorted(p.name for p in (tmp_path / "killed" / "checkpoints").iterdir())
    assert saved == ["best.ckpt", f"epoch-{epoch - 1:03d}.ckpt"]  # one per epoch, the newest
    # The project moves (or is copied) before the rerun: nothing follows old paths.
    shutil.move(tmp_path / "killed", tmp_path / "moved")
    with caplog.at_level(logging.INFO):
        resumed = _fit(data, block, tmp_path / "moved")
    assert f"epoch-{epoch - 1:03d}.ckpt" in caplog.text and "Resuming from" in caplog.text

    assert resumed.epochs_run == unbroken.epochs_run == 3
    assert resumed.best_val_miou == unbroken.best_val_miou
    pd.testing.assert_frame_equal(resumed.history, unbroken.history)
    # What a process that did not fit (DDP's spawning one) reads back from rank 0's files.
    read = RunCheckpoints(tmp_path / "moved" / "checkpoints")
    assert _read_back(read) == 3 and read.best_score == unbroken.best_val_miou
    pd.testing.assert_frame_equal(read.history(), unbroken.history)
    assert resumed.state_dict.keys() == unbroken.state_dict.keys()
    for key, value in unbroken.state_dict.items():
        assert torch.equal(resumed.state_dict[key], value), key


def test_other_settings_start_afresh(data: TrainingData, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    block = _conf_block(tmp_path, "prithvi")
    _fit(data, block, tmp_path / "run")
    block["optim"]["lr"] = 1e-4
    with caplog.at_level(logging.INFO):
        result = _fit(data, block, tmp_path / "run")
    assert "training from the start" in caplog.text and result.epochs_run == 1
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == [
        "best.ckpt",
        "epoch-000.ckpt",
    ]


def test_fewer_epochs_than_a_resumable_run_says_what_to_do(
    data: TrainingData, tmp_path: Path
) -> None:
    from cocoa_threat.errors import ParameterError

    block = _conf_block(tmp_path, "prithvi")
    block["trainer"]["max_epochs"] = 2
    _fit(data, block, tmp_path / "run")
    block["trainer"]["max_epochs"] = 1
    with pytest.raises(
        ParameterError,
        match=r"already trained 2 epochs.*prithvi.model.trainer.max_epochs 1.*prithvi.model.trainer.resume: false",
    ):
        _fit(data, block, tmp_path / "run")
    block["trainer"]["resume"] = False  # the advice works
    assert _fit(data, block, tmp_path / "run").epochs_run == 1


def test_partial_checkpoints_are_never_resumed_from(tmp_path: Path) -> None:
    from cocoa_threat.models.training import newest_checkpoint

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("epoch-001.ckpt", "epoch-010.ckpt", ".epoch-011.ckpt.partial", "epoch-x.ckpt"):
        (folder / name).write_bytes(b"")
    assert newest_checkpoint(folder) == folder / "epoch-010.ckpt"
    assert newest_checkpoint(tmp_path / "none") is None


def test_resuming_across_a_code_change_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    from cocoa_threat.models.training import RUN_CONFIG, _resume_path, code_stamp

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "epoch-004.ckpt").write_bytes(b"")
    stamp = code_stamp()
    (tmp_path / RUN_CONFIG).write_text(json.dumps({"fingerprint": "f", "code": stamp}))
    with caplog.at_level(logging.WARNING, logger="cocoa_threat.models.training"):
        assert _resume_path(tmp_path, "f", resume=True) == tmp_path / "checkpoints/epoch-004.ckpt"
    assert "other code" not in caplog.text
    older = {**stamp, "models_source": "0123456789abcdef"}
    (tmp_path / RUN_CONFIG).write_text(json.dumps({"fingerprint": "f", "code": older}))
    with caplog.at_level(logging.WARNING, logger="cocoa_threat.models.training"):
        assert _resume_path(tmp_path, "f", resume=True) == tmp_path / "checkpoints/epoch-004.ckpt"
    assert "other code (models_source 0123456789abcdef -> " in caplog.text
    assert "trainer.resume: false" in caplog.text
    # the stamp: a short hash of the model sources and the library versions
    assert len(stamp["models_source"]) == 16 and stamp["torch"] == torch.__version__


def test_resnet50_is_truly_from_scratch(data: TrainingData, tmp_path: Path) -> None:
    spec = _spec(_conf_block(tmp_path, "resnet50"), "resnet50")
    args = training_args(spec, 3, BANDS, checkpoint=None)
    assert args["pretrained"] is None and args["in_channels"] == 6
    task = build_task(spec, args, data)
    encoder = task.model.smp_model.encoder
    assert all(p.requires_grad for p in encoder.parameters())
    assert spec.class_weights == [0.11, 0.78, 0.11]
    imagenet = spec.model_copy(
        update={"weights": spec.weights.model_copy(update={"source": "imagenet"})}
    )
    assert training_args(imagenet, 3, BANDS, checkpoint=None)["pretrained"] == "imagenet"


def test_resnet50_trains_on_cpu(data: TrainingData, tmp_path: Path) -> None:
    result = fit_segmentation_model(
        data, _spec(_conf_block(tmp_path, "resnet50"), "resnet50"), "resnet50", tmp_path / "run"
    )
    assert result.best_val_miou is not None
    assert "val/mIoU" in result.history and "train/loss" in result.history


def test_pretrained_keys_in_model_args_are_refused(tmp_path: Path) -> None:
    block = _conf_block(tmp_path, "prithvi")
    block["model_args"]["backbone_pretrained"] = True
    with pytest.raises(ParameterError, match=r"prithvi\.model: .*weights\.source"):
        parse_model_params(block, "prithvi.model")


def test_smallminesds_env_has_the_study_gpu_settings(tmp_path: Path) -> None:
    params = load_project_conf(tmp_path, env="smallminesds").params
    prithvi = _spec(params["prithvi"]["model"], "prithvi")
    assert prithvi.model_args["backbone"] == "prithvi_eo_v2_300"
    assert prithvi.model_args["necks"][0]["indices"] == [5, 11, 17, 23]
    assert prithvi.freeze_backbone and prithvi.weights.source == "local"
    assert (prithvi.optim.lr, prithvi.data.batch_size, prithvi.trainer.max_epochs) == (1e-3, 4, 100)
    assert prithvi.trainer.precision == "16-mixed"
    resnet = _spec(params["resnet50"]["model"], "resnet50")
    assert (resnet.optim.lr, resnet.trainer.max_epochs) == (1e-4, 100)
    assert resnet.weights.source == "none" and not resnet.freeze_backbone
    assert params["ingestion"]["source"] == "local"


# -- several devices: DDP spawned from the training node -------------------------------


@pytest.mark.parametrize(
    ("trainer", "expected"),
    [
        ({"strategy": "fsdp"}, r"strategy: fsdp is launched by running the command again"),
        ({"strategy": "deepspeed"}, r"strategy: deepspeed is launched by running the command"),
        (
            {"strategy": "ddp_fork"},
            r"strategy: ddp_fork forks the kedro process.*set strategy: ddp",
        ),
        ({"strategy": "dp"}, r"strategy: 'dp' is not a Lightning strategy; set auto or ddp"),
        ({"num_nodes": 2}, r"num_nodes: 2: training on several nodes from kedro run is not"),
    ],
)
def test_what_kedro_run_cannot_launch_is_refused_naming_the_key(
    tmp_path: Path, trainer: dict, expected: str
) -> None:
    block = _conf_block(tmp_path, "resnet50")
    block["trainer"].update(trainer)
    with pytest.raises(ParameterError, match=rf"resnet50\.model\.trainer: {expected}"):
        parse_model_params(block, "resnet50.model")


def test_ddp_strategies_are_spawned_and_one_device_stays_in_process(tmp_path: Path) -> None:
    from lightning.pytorch.strategies import DDPStrategy

    def strategy(**trainer):  # noqa: ANN003, ANN202
        block = _conf_block(tmp_path, "resnet50")
        block["trainer"].update(accelerator="cpu", **trainer)
        return lightning_strategy(_spec(block, "resnet50").trainer)

    assert strategy(devices=1, strategy="auto") == "auto"
    assert strategy(devices="auto", strategy="auto") == "auto"  # one CPU device
    for trainer in (
        {"devices": 2, "strategy": "auto"},  # Lightning would pick ddp: re-running kedro run
        {"devices": 2, "strategy": "ddp"},
        {"devices": 2, "strategy": "ddp_spawn"},
        {"devices": 2, "strategy": "ddp_find_unused_parameters_true"},
    ):
        chosen = strategy(**trainer)
        assert isinstance(chosen, DDPStrategy), trainer
        assert chosen._start_method == "spawn" and isinstance(
            chosen.cluster_environment, LocalProcesses
        )
    assert strategy(devices=2, strategy="ddp_find_unused_parameters_true")._ddp_kwargs == {
        "find_unused_parameters": True
    }


def test_spawned_ranks_ignore_launcher_variables_of_the_kedro_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import lightning as L
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    # A Trainer sets this process's rank globally: restore it, or later tests log nothing.
    monkeypatch.setattr(rank_zero_only, "rank", getattr(rank_zero_only, "rank", 0))
    # kedro run under `srun -n 1` in a Slurm job, with variables of an earlier launcher
    for name, value in {
        "LOCAL_RANK": "3",
        "NODE_RANK": "1",
        "GROUP_RANK": "1",
        "MASTER_ADDR": "10.0.0.9",
        "MASTER_PORT": "1",
        "SLURM_NTASKS": "1",
        "SLURM_NTASKS_PER_NODE": "1",
        "SLURM_JOB_NAME": "job",
        "SLURM_JOB_ID": "1",
        "SLURM_NODELIST": "n1",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
    }.items():
        monkeypatch.setenv(name, value)
    env = LocalProcesses()
    assert not env.creates_processes_externally  # Lightning spawns every rank itself
    assert (env.main_address, env.node_rank()) == ("127.0.0.1", 0)
    assert env.main_port not in (1, -1) and env.main_port == env.main_port
    block = _conf_block(tmp_path, "resnet50")
    block["trainer"].update(accelerator="cpu", devices=2)
    strategy = lightning_strategy(_spec(block, "resnet50").trainer)  # auto: 2 devices, DDP
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy=strategy, logger=False)
    assert trainer.world_size == 2  # Lightning alone would take Slurm's one task
    assert isinstance(trainer.strategy.cluster_environment, LocalProcesses)


@pytest.mark.parametrize("name", ["prithvi", "resnet50"])
def test_a_task_reaches_a_spawned_rank_with_its_weights(
    data: TrainingData, tmp_path: Path, name: str
) -> None:
    # TerraTorch tasks (lambdas) and Prithvi backbones (local functions) don't pickle:
    # a spawned rank rebuilds the task from its arguments and loads its weights.
    from multiprocessing.reduction import ForkingPickler

    spec = _spec(_conf_block(tmp_path, name), name)
    task = build_task(spec, training_args(spec, 3, BANDS, checkpoint=None), data)
    with torch.no_grad():
        for p in task.parameters():
            p.add_(0.01)  # weights no fresh build has
    received = ForkingPickler.loads(bytes(ForkingPickler.dumps(task)))
    assert received is not task and type(received) is type(task)
    assert received.state_dict().keys() == task.state_dict().keys()
    for key, value in task.state_dict().items():
        assert torch.equal(received.state_dict()[key], value), key
    assert [p.requires_grad for p in received.parameters()] == [
        p.requires_grad for p in task.parameters()
    ]
    x = torch.from_numpy(data.splits["val"].images)
    outputs = []
    for model in (task, received):  # training mode (batch statistics), the same dropout draws
        torch.manual_seed(0)
        with torch.no_grad():
            outputs.append(model.train()(x).output)
    assert torch.isfinite(outputs[0]).all() and torch.equal(*outputs)


@pytest.mark.slow
def test_two_spawned_processes_train_and_resume_prithvi(
    data: TrainingData, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # DDP on 2 CPU processes (gloo), 2 steps per rank (DDP finds unused parameters on the
    # second), then one more epoch resumed from the first, again in 2 processes.
    block = _conf_block(tmp_path, "prithvi")
    block["data"]["batch_size"] = 2
    block["trainer"].update(accelerator="cpu", devices=2, strategy="ddp")
    first = _fit(data, block, tmp_path / "run")
    assert first.epochs_run == 1 and list(first.history["epoch"]) == [0]
    block["trainer"]["max_epochs"] = 2
    with caplog.at_level(logging.INFO):
        resumed = _fit(data, block, tmp_path / "run")
    assert "Resuming from" in caplog.text and "epoch-000.ckpt" in caplog.text
    assert resumed.epochs_run == 2 and list(resumed.history["epoch"]) == [0, 1]
    assert resumed.history.iloc[0].equals(first.history.iloc[0])  # rank 0's records kept
    assert resumed.best_val_miou == resumed.history["val/mIoU"].max()
    best = torch.load(resumed.best_checkpoint, weights_only=True)["state_dict"]
    for key, value in resumed.state_dict.items():
        assert torch.equal(best[f"model.{key}"], value), key
    assert not any(p.name.startswith(".") for p in (tmp_path / "run").rglob("*"))
