"""Lightning glue: one code path that trains every TerraTorch model of the project."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from cocoa_threat.models.config import DeepModelParams, TrainerSpec
from cocoa_threat.models.data import InMemorySegmentationDataModule, TrainingData
from cocoa_threat.models.terratorch_build import (
    architecture_args,
    resolve_pretrained,
    training_args,
)

logger = logging.getLogger(__name__)

MONITOR = "val/mIoU"
RUN_CONFIG = "run_config.json"


class HistoryCallback(Callback):
    """Collects epoch-level metrics; stored in checkpoints so resumed runs keep them.

    TerraTorch logs epoch metrics in its own epoch-end hooks, which run after the
    callbacks' hooks, so validation metrics are read at ``on_validation_end`` and
    an epoch's training metrics when the next epoch (or training) starts/ends.
    """

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, float]] = {}
        self._pending_train_epoch: int | None = None

    def _record(self, trainer: L.Trainer, epoch: int, prefix: str) -> None:
        row = self.rows.setdefault(epoch, {"epoch": epoch})
        for key, value in trainer.callback_metrics.items():
            if key.startswith(prefix) and torch.is_tensor(value) and value.numel() == 1:
                row[key] = float(value)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer, trainer.current_epoch, "val/")

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._pending_train_epoch = trainer.current_epoch

    def _flush_train(self, trainer: L.Trainer) -> None:
        if self._pending_train_epoch is not None:
            self._record(trainer, self._pending_train_epoch, "train/")
            self._pending_train_epoch = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._flush_train(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._flush_train(trainer)

    def frame(self) -> pd.DataFrame:
        """The history, one row per epoch."""
        return pd.DataFrame([self.rows[e] for e in sorted(self.rows)])

    def state_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows.values())}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = {int(r["epoch"]): dict(r) for r in state_dict.get("rows", [])}


@dataclass
class FitResult:
    """What training produced."""

    state_dict: dict[str, torch.Tensor]
    build_config: dict[str, Any]
    history: pd.DataFrame
    best_val_miou: float | None
    best_checkpoint: str | None
    epochs_run: int


def auto_precision(spec: TrainerSpec) -> str:
    """16-mixed (bf16-mixed where supported) on CUDA, 32-true on CPU, unless set."""
    if spec.precision:
        return spec.precision
    uses_cuda = spec.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if not uses_cuda:
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def _fingerprint(spec: DeepModelParams, build_config: dict[str, Any], seed: int) -> str:
    """Hash of what makes a checkpoint resumable (not max_epochs or patience)."""
    keep = {
        "build": build_config,
        "weights": spec.weights.model_dump(),
        "freeze": spec.freeze_backbone,
        "loss": spec.loss,
        "class_weights": spec.class_weights,
        "optim": spec.optim.model_dump(),
        "batch_size": spec.data.batch_size,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


def _resume_path(run_dir: Path, fingerprint: str, resume: bool) -> str | None:
    last = run_dir / "checkpoints" / "last.ckpt"
    stamp = run_dir / RUN_CONFIG
    if not (resume and last.is_file() and stamp.is_file()):
        return None
    if json.loads(stamp.read_text()).get("fingerprint") != fingerprint:
        logger.info("Checkpoint in %s is from other settings; training from the start", run_dir)
        return None
    logger.info("Resuming from %s", last)
    return str(last)


def build_task(spec: DeepModelParams, model_args: dict[str, Any], data: TrainingData) -> Any:
    """The TerraTorch ``SemanticSegmentationTask`` for a model block."""
    from terratorch.tasks import SemanticSegmentationTask

    return SemanticSegmentationTask(
        model_factory=spec.model_factory,
        model_args=model_args,
        loss=spec.loss,
        class_weights=spec.class_weights,
        ignore_index=data.ignore_index,
        lr=spec.optim.lr,
        optimizer=spec.optim.optimizer,
        optimizer_hparams={"weight_decay": spec.optim.weight_decay},
        scheduler=spec.optim.scheduler,
        scheduler_hparams=spec.optim.scheduler_hparams or None,
        freeze_backbone=spec.freeze_backbone,
        plot_on_val=False,
        class_names=data.class_names,
    )


def _warn_random_init(spec: DeepModelParams, namespace: str) -> None:
    if spec.weights.source != "none":
        return
    backbone = spec.model_args.get("backbone", spec.model_args.get("model", "model"))
    tiny = "prithvi_eo_tiny" in str(spec.model_args.get("backbone"))
    logger.warning(
        "%s: %s starts from RANDOM weights (%s.model.weights.source: none)%s",
        namespace,
        backbone,
        namespace,
        "; prithvi_eo_tiny has no pretrained weights, so demo figures are not "
        "those of a foundation model"
        if tiny
        else "",
    )


def terratorch_build_config(spec: DeepModelParams, data: TrainingData) -> dict[str, Any]:
    """How to rebuild the model (no pretrained weights) and feed it: the build config."""
    return {
        "kind": "terratorch",
        "model_factory": spec.model_factory,
        "model_args": architecture_args(spec, data.n_classes, data.bands),
        **data.input_config(),
    }


def make_trainer(spec: DeepModelParams, run_dir: Path, callbacks: list[Callback]) -> L.Trainer:
    """A Lightning trainer from ``<model>.model.trainer``, logging under ``run_dir``."""
    t = spec.trainer
    return L.Trainer(
        max_epochs=t.max_epochs,
        accelerator=t.accelerator,
        devices=t.devices,
        strategy=t.strategy,
        num_nodes=t.num_nodes,
        precision=auto_precision(t),
        callbacks=callbacks,
        logger=[
            TensorBoardLogger(run_dir, name="tensorboard"),
            CSVLogger(run_dir, name="csv"),
        ],
        log_every_n_steps=t.log_every_n_steps,
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches,
        enable_progress_bar=t.enable_progress_bar,
        enable_model_summary=False,
        deterministic=False,
    )


def _callbacks(
    spec: DeepModelParams, run_dir: Path, extra: list[Callback] | None
) -> tuple[ModelCheckpoint, HistoryCallback, list[Callback]]:
    best = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch:03d}",
        monitor=MONITOR,
        mode="max",
        save_top_k=1,
        save_last=True,
    )
    history = HistoryCallback()
    callbacks: list[Callback] = [best, history, *(extra or [])]
    if patience := spec.trainer.early_stopping_patience:
        callbacks.append(EarlyStopping(monitor=MONITOR, mode="max", patience=patience))
    return best, history, callbacks


def _best_weights(task: Any, best_path: str | None) -> dict[str, torch.Tensor]:
    """The model's weights at the best checkpoint (the last epoch's if none)."""
    if best_path:
        state = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]
        task.load_state_dict(state)
    return {k: v.detach().cpu().clone() for k, v in task.model.state_dict().items()}


def fit_segmentation_model(
    data: TrainingData,
    spec: DeepModelParams,
    namespace: str,
    run_dir: Path,
    extra_callbacks: list[Callback] | None = None,
    seed: int = 42,
) -> FitResult:
    """Train a TerraTorch model, pick the best epoch on validation mIoU.

    Uses Lightning with accelerator auto (CUDA when present), the configured
    precision, devices, strategy and nodes (DDP works unchanged), early stopping
    and best-checkpoint selection on ``val/mIoU``, TensorBoard and CSV logs under
    ``run_dir``, and resumes from ``run_dir/checkpoints/last.ckpt`` when an
    earlier run with the same settings was interrupted.

    Args:
        data: Normalised training data (only train and val are used here).
        spec: The model's parameters.
        namespace: The model's namespace (for messages and logs).
        run_dir: Folder of this model's checkpoints and logs.
        extra_callbacks: More Lightning callbacks (e.g. timers in benchmarks).
        seed: Seed of the initialisation, the batches and the augmentation.

    Returns:
        The best weights, the build config, the per-epoch history and facts.
    """
    checkpoint = resolve_pretrained(spec.weights, namespace)  # fail before any training
    _warn_random_init(spec, namespace)
    build_config = terratorch_build_config(spec, data)
    L.seed_everything(seed, workers=True, verbose=False)
    task = build_task(spec, training_args(spec, data.n_classes, data.bands, checkpoint), data)
    d = spec.data
    datamodule = InMemorySegmentationDataModule(
        data, batch_size=d.batch_size, num_workers=d.num_workers, augment=d.augment, seed=seed
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(spec, build_config, seed)
    ckpt_path = _resume_path(run_dir, fingerprint, spec.trainer.resume)
    best_cb, history, callbacks = _callbacks(spec, run_dir, extra_callbacks)
    trainer = make_trainer(spec, run_dir, callbacks)
    (run_dir / RUN_CONFIG).write_text(json.dumps({"fingerprint": fingerprint}))
    logger.info(
        "%s: training on %s (%s precision), %d train / %d val patches, batch %d, max %d epochs",
        namespace,
        trainer.accelerator.__class__.__name__.replace("Accelerator", ""),
        trainer.precision,
        len(data.splits["train"]),
        len(data.splits["val"]),
        d.batch_size,
        spec.trainer.max_epochs,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*number of training batches.*")
        trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path)
    best_path, best = best_cb.best_model_path or None, best_cb.best_model_score
    logger.info(
        "%s: best val mIoU %s at %s", namespace, "n/a" if best is None else f"{best:.3f}", best_path
    )
    return FitResult(
        state_dict=_best_weights(task, best_path),
        build_config=build_config,
        history=history.frame(),
        best_val_miou=None if best is None else float(best),
        best_checkpoint=best_path,
        epochs_run=int(trainer.current_epoch),
    )
