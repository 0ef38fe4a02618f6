"""Lightning glue: one code path that trains every TerraTorch model of the project."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, Checkpoint, EarlyStopping
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from cocoa_threat.errors import ParameterError
from cocoa_threat.models.data import InMemorySegmentationDataModule, TrainingData
from cocoa_threat.models.fast_paths import use_fast_paths
from cocoa_threat.models.terratorch_build import (
    architecture_args,
    resolve_pretrained,
    training_args,
)
from cocoa_threat.params.training import DeepModelParams, TrainerSpec
from cocoa_threat.tracking import lightning_loggers

logger = logging.getLogger(__name__)

MONITOR = "val/mIoU"
RUN_CONFIG = "run_config.json"
BEST = "best.ckpt"
EPOCH_FILE = re.compile(r"epoch-(\d+)\.ckpt")


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch: a run resumed at any epoch draws what an unbroken run draws."""
    return (seed * 100_003 + epoch) % 2**32


class EpochSeed(Callback):
    """Re-seed every random generator at the start of each training epoch.

    With the shuffling and augmentation also derived from (seed, epoch, index)
    (see :class:`~cocoa_threat.models.data.EpochShuffleSampler`), epoch ``e``
    draws the same numbers whether or not the run was interrupted before it.
    """

    def __init__(self, seed: int) -> None:
        """Remember the run's seed."""
        self.seed = seed

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Seed Python, NumPy and torch (CPU and CUDA) for this epoch."""
        L.seed_everything(epoch_seed(self.seed, trainer.current_epoch), verbose=False)


class RunCheckpoints(Checkpoint):
    """The epoch history, the newest epoch's checkpoint and the best one, at fixed names.

    * ``checkpoints/epoch-<NNN>.ckpt``: written at the end of every epoch (older
      ones removed), so a killed run loses at most one epoch;
    * ``checkpoints/best.ckpt``: the epoch with the best ``val/mIoU``.

    Files are written to a temporary name and renamed, so a kill never leaves a
    truncated checkpoint. The best score, its epoch and the history travel in
    the checkpoints (this callback's state): a resumed run keeps them. No path
    is ever read from a checkpoint: the folder is the run's own.

    It is a Lightning ``Checkpoint``, so its ``on_train_epoch_end`` runs after
    the module's (TerraTorch logs epoch metrics there).
    """

    def __init__(self, folder: Path, monitor: str = MONITOR) -> None:
        """Checkpoints go to ``folder``."""
        self.folder = Path(folder)
        self.monitor = monitor
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.rows: dict[int, dict[str, float]] = {}

    def _record(self, trainer: L.Trainer, prefix: str) -> None:
        row = self.rows.setdefault(trainer.current_epoch, {"epoch": trainer.current_epoch})
        for key, value in trainer.callback_metrics.items():
            if key.startswith(prefix) and torch.is_tensor(value) and value.numel() == 1:
                row[key] = float(value)

    def _save(self, trainer: L.Trainer, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.partial"
        # Epoch checkpoints are full (optimiser, loops, callbacks): resuming needs them. Only
        # the weights of best.ckpt are ever read. Every rank calls save_checkpoint (it
        # synchronises); only rank 0 writes the file, so only rank 0 moves it into place.
        trainer.save_checkpoint(tmp, weights_only=name == BEST)
        if trainer.is_global_zero:
            os.replace(tmp, self.folder / name)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Record the validation scores; keep the checkpoint if they are the best so far."""
        if trainer.sanity_checking:
            return
        self._record(trainer, "val/")
        score = trainer.callback_metrics.get(self.monitor)
        if score is not None and (self.best_score is None or float(score) > self.best_score):
            self.best_score, self.best_epoch = float(score), trainer.current_epoch
            self._save(trainer, BEST)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Record the epoch's training metrics and write its checkpoint."""
        self._record(trainer, "train/")
        name = f"epoch-{trainer.current_epoch:03d}.ckpt"
        self._save(trainer, name)
        if not trainer.is_global_zero:
            return
        for old in self.folder.glob("epoch-*.ckpt"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def history(self) -> pd.DataFrame:
        """One row per epoch."""
        return pd.DataFrame([self.rows[e] for e in sorted(self.rows)])

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run keeps: the best score and epoch, the history."""
        return {
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "rows": list(self.rows.values()),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from a checkpoint."""
        self.best_score = state_dict.get("best_score")
        self.best_epoch = state_dict.get("best_epoch")
        self.rows = {int(r["epoch"]): dict(r) for r in state_dict.get("rows", [])}


def newest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint of the latest epoch in ``folder`` (by its name; partial files ignored)."""
    found = [p for p in folder.glob("epoch-*.ckpt") if EPOCH_FILE.fullmatch(p.name)]
    return max(found, key=lambda p: int(EPOCH_FILE.fullmatch(p.name)[1]), default=None)  # type: ignore[index]


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


def code_stamp() -> dict[str, str]:
    """What code trains: a hash of the model package's sources and the library versions.

    Settings decide whether a checkpoint is resumable (:func:`_fingerprint`); the code does
    not, but a run resumed across a code change can't equal an uninterrupted one, so
    :func:`_resume_path` says so.
    """
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return {
        "models_source": digest.hexdigest()[:16],
        "torch": torch.__version__,
        "lightning": L.__version__,
        "terratorch": _version_of("terratorch"),
    }


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


def _resume_path(
    run_dir: Path, fingerprint: str, resume: bool, max_epochs: int | None = None
) -> Path | None:
    """The newest epoch checkpoint of an earlier run with the same settings, if any.

    Raises:
        ParameterError: If that run already trained more epochs than ``max_epochs``
            (Lightning can't resume it), saying what to change.
    """
    newest = newest_checkpoint(run_dir / "checkpoints")
    stamp = run_dir / RUN_CONFIG
    if not (resume and newest is not None and stamp.is_file()):
        return None
    earlier = json.loads(stamp.read_text())
    if earlier.get("fingerprint") != fingerprint:
        logger.info("Checkpoint in %s is from other settings; training from the start", run_dir)
        return None
    done = int(EPOCH_FILE.fullmatch(newest.name)[1]) + 1  # type: ignore[index]
    if max_epochs is not None and done > max_epochs:
        raise ParameterError(
            f"{newest} is an earlier run with the same settings that already trained {done} "
            f"epochs, more than trainer.max_epochs {max_epochs} now, so it can't be resumed. "
            f"Raise <model>.model.trainer.max_epochs to at least {done} to continue it, set "
            f"<model>.model.trainer.resume: false to train afresh (its checkpoints are "
            f"replaced), or delete {run_dir / 'checkpoints'}"
        )
    now = code_stamp()
    changed = {k: (earlier.get("code", {}).get(k), v) for k, v in now.items()}
    changed = {k: pair for k, pair in changed.items() if pair[0] != pair[1]}
    if changed:
        logger.warning(
            "Resuming %s, which was written by other code (%s): the model will not equal an "
            "uninterrupted run. For that, set trainer.resume: false for this model or delete %s.",
            newest,
            ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changed.items()),
            run_dir / "checkpoints",
        )
    logger.info("Resuming from %s", newest)
    return newest


def build_task(spec: DeepModelParams, model_args: dict[str, Any], data: TrainingData) -> Any:
    """The TerraTorch ``SemanticSegmentationTask`` for a model block."""
    from terratorch.tasks import SemanticSegmentationTask

    task = SemanticSegmentationTask(
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
    use_fast_paths(task.model)  # Prithvi's patch embedding on fast kernels in mixed precision
    return task


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


def make_trainer(
    spec: DeepModelParams, run_dir: Path, callbacks: list[Callback], tracking_prefix: str = ""
) -> L.Trainer:
    """A Lightning trainer from ``<model>.model.trainer``, logging under ``run_dir``.

    When an MLflow run is active (``kedro run --env=mlflow``), the epoch metrics go
    into it too, under ``tracking_prefix``.
    """
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
            *lightning_loggers(tracking_prefix),
        ],
        log_every_n_steps=t.log_every_n_steps,
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches,
        enable_progress_bar=t.enable_progress_bar,
        enable_model_summary=False,
        deterministic=False,
    )


def _callbacks(
    spec: DeepModelParams, run_dir: Path, seed: int, extra: list[Callback] | None
) -> tuple[RunCheckpoints, list[Callback]]:
    checkpoints = RunCheckpoints(run_dir / "checkpoints")
    callbacks: list[Callback] = [EpochSeed(seed), checkpoints, *(extra or [])]
    if patience := spec.trainer.early_stopping_patience:
        callbacks.append(EarlyStopping(monitor=MONITOR, mode="max", patience=patience))
    return checkpoints, callbacks


def _best_weights(task: Any, best: Path) -> dict[str, torch.Tensor]:
    """The model's weights at the best checkpoint (the last epoch's if there is none)."""
    if best.is_file():
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
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
    ``run_dir``. A checkpoint is written every epoch; when an earlier run with
    the same settings was interrupted, training resumes from its newest epoch
    (loaded with ``weights_only=True``) and ends with the same weights as an
    unbroken run (every epoch is seeded from ``seed`` and its number).

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
        data,
        batch_size=d.batch_size,
        num_workers=d.workers(torch.cuda.is_available() and spec.trainer.accelerator != "cpu"),
        augment=d.augment,
        seed=seed,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(spec, build_config, seed)
    ckpt_path = _resume_path(run_dir, fingerprint, spec.trainer.resume, spec.trainer.max_epochs)
    if ckpt_path is None:  # a fresh start: no checkpoint of another run may count as best
        for old in (run_dir / "checkpoints").glob("*.ckpt"):
            old.unlink()
    checkpoints, callbacks = _callbacks(spec, run_dir, seed, extra_callbacks)
    trainer = make_trainer(spec, run_dir, callbacks, f"{namespace}.seed_{seed}")
    (run_dir / RUN_CONFIG).write_text(
        json.dumps({"fingerprint": fingerprint, "code": code_stamp()})
    )
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
        trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    best, best_path = checkpoints.best_score, checkpoints.folder / BEST
    logger.info(
        "%s: best val mIoU %s (epoch %s)",
        namespace,
        "n/a" if best is None else f"{best:.3f}",
        checkpoints.best_epoch,
    )
    return FitResult(
        state_dict=_best_weights(task, best_path),
        build_config=build_config,
        history=checkpoints.history(),
        best_val_miou=best,
        best_checkpoint=str(best_path) if best_path.is_file() else None,
        epochs_run=int(trainer.current_epoch),
    )
