"""Lightning glue: one code path that trains every TerraTorch model of the project."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.fabric.plugins.environments import LightningEnvironment
from lightning.fabric.plugins.environments.lightning import find_free_network_port
from lightning.pytorch.callbacks import Callback, Checkpoint, EarlyStopping
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.strategies import DDPStrategy, Strategy, StrategyRegistry

from cocoa_threat.errors import ParameterError
from cocoa_threat.models.data import InMemorySegmentationDataModule, TrainingData
from cocoa_threat.models.fast_paths import use_fast_paths
from cocoa_threat.models.terratorch_build import (
    architecture_args,
    resolve_pretrained,
    training_args,
)
from cocoa_threat.params.training import DeepModelParams, TrainerSpec, launch_problem
from cocoa_threat.tracking import lightning_loggers

logger = logging.getLogger(__name__)

MONITOR = "val/mIoU"
RUN_CONFIG = "run_config.json"
BEST = "best.ckpt"
EPOCH_FILE = re.compile(r"epoch-(\d+)\.ckpt")
# Strategies that run in the kedro process (one device); DDP ones are spawned from it.


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


def ignore_known_warnings() -> None:
    """Silence Lightning's warnings that don't apply to these in-memory loaders and metrics."""
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*number of training batches.*")
    # TerraTorch's losses are logged with sync_dist and its metrics are torchmetrics, which
    # synchronise the ranks when computed: the advice to log them with sync_dist is moot.
    warnings.filterwarnings("ignore", message=".*when logging on epoch level in distributed.*")


class KnownWarnings(Callback):
    """:func:`ignore_known_warnings` in every process that fits (DDP's spawned ranks too)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Install the filters in this process."""
        ignore_known_warnings()


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
    run_dir: Path,
    fingerprint: str,
    resume: bool,
    max_epochs: int | None = None,
    processes: int = 1,
    namespace: str = "<model>",
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
            f"epochs, more than {namespace}.model.trainer.max_epochs {max_epochs} now, so it "
            f"can't be resumed. Raise {namespace}.model.trainer.max_epochs to at least {done} "
            f"to continue it, set {namespace}.model.trainer.resume: false to train afresh (its "
            f"checkpoints are replaced), or delete {run_dir / 'checkpoints'}"
        )
    earlier_code = {**earlier.get("code", {}), "processes": earlier.get("processes", 1)}
    now = {**code_stamp(), "processes": processes}
    changed = {k: (earlier_code.get(k), v) for k, v in now.items() if earlier_code.get(k) != v}
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


def _start_run(
    run_dir: Path, fingerprint: str, trainer: TrainerSpec, processes: int, namespace: str
) -> Path | None:
    """Prepare ``run_dir``: the checkpoint to resume from (None: a fresh start, and the
    checkpoints of an earlier run are removed), and this run's settings stamp."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = _resume_path(
        run_dir, fingerprint, trainer.resume, trainer.max_epochs, processes, namespace
    )
    if ckpt_path is None:  # a fresh start: no checkpoint of another run may count as best
        for old in (run_dir / "checkpoints").glob("*.ckpt"):
            old.unlink()
    (run_dir / RUN_CONFIG).write_text(
        json.dumps({"fingerprint": fingerprint, "code": code_stamp(), "processes": processes})
    )
    return ckpt_path


def build_task(spec: DeepModelParams, model_args: dict[str, Any], data: TrainingData) -> Any:
    """The TerraTorch ``SemanticSegmentationTask`` for a model block.

    DDP's spawned ranks receive it rebuilt from these arguments and its weights
    (:func:`_reduce_task`): TerraTorch tasks and Prithvi backbones hold local
    functions, which don't pickle.
    """
    from multiprocessing.reduction import ForkingPickler

    from terratorch.tasks import SemanticSegmentationTask

    ForkingPickler.register(SemanticSegmentationTask, _reduce_task)  # for spawned processes only
    build = (spec, model_args, data.ignore_index, list(data.class_names))
    task = _new_task(*build)
    task.cocoa_build_args = build
    return task


def _new_task(
    spec: DeepModelParams, model_args: dict[str, Any], ignore_index: int, class_names: list[str]
) -> Any:
    from terratorch.tasks import SemanticSegmentationTask

    task = SemanticSegmentationTask(
        model_factory=spec.model_factory,
        model_args=model_args,
        loss=spec.loss,
        class_weights=spec.class_weights,
        ignore_index=ignore_index,
        lr=spec.optim.lr,
        optimizer=spec.optim.optimizer,
        optimizer_hparams={"weight_decay": spec.optim.weight_decay},
        scheduler=spec.optim.scheduler,
        scheduler_hparams=spec.optim.scheduler_hparams or None,
        freeze_backbone=spec.freeze_backbone,
        plot_on_val=False,
        class_names=class_names,
    )
    use_fast_paths(task.model)  # Prithvi's patch embedding on fast kernels in mixed precision
    return task


def _reduce_task(task: Any) -> tuple[Any, tuple[Any, ...]]:
    """How a process spawned for DDP gets a task: rebuilt by :func:`_rebuilt_task`."""
    if not hasattr(task, "cocoa_build_args"):
        raise TypeError("Only tasks made by build_task can be sent to DDP's spawned processes")
    return _rebuilt_task, (*task.cocoa_build_args, task.state_dict())


def _rebuilt_task(
    spec: DeepModelParams,
    model_args: dict[str, Any],
    ignore_index: int,
    class_names: list[str],
    state: dict[str, torch.Tensor],
) -> Any:
    """The task :func:`build_task` made, with the weights it had when it was sent."""
    task = _new_task(spec, model_args, ignore_index, class_names)
    task.load_state_dict(state)
    task.cocoa_build_args = (spec, model_args, ignore_index, class_names)
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


# -- several devices: DDP processes spawned from the training node ----------------------


class LocalProcesses(LightningEnvironment):
    """The ranks of a DDP fit: processes that Lightning spawns on this machine.

    Whatever launcher or scheduler variables the calling process inherited
    (``LOCAL_RANK``, ``NODE_RANK``, ``MASTER_ADDR``, ``MASTER_PORT`` of torchrun,
    Slurm or Kubernetes), the ranks are the spawned processes of this node and meet
    on a free loopback port: no rank waits for a process that nobody starts.
    """

    @property
    def creates_processes_externally(self) -> bool:
        """Never: Lightning's spawn launcher starts every rank."""
        return False

    @property
    def main_address(self) -> str:
        """This machine."""
        return "127.0.0.1"

    @property
    def main_port(self) -> int:
        """A free port, chosen once in the calling process (the ranks inherit it)."""
        if self._main_port == -1:
            self._main_port = find_free_network_port()
        return self._main_port

    def node_rank(self) -> int:
        """One node."""
        return 0


def _device_count(t: TrainerSpec) -> int:
    """How many devices Lightning resolves ``devices`` to (``auto``: every GPU, or 1 CPU)."""
    quiet = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # the real trainer says which devices it uses
    try:
        probe = L.Trainer(
            accelerator=t.accelerator,
            devices=t.devices,
            plugins=[LocalProcesses()],  # no scheduler's variables checked against devices
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
    finally:
        quiet.setLevel(level)
    return probe.num_devices


def lightning_strategy(t: TrainerSpec) -> str | Strategy:
    """Lightning's strategy for a ``trainer`` block: DDP is spawned from the calling process.

    Lightning's ``ddp`` starts the other ranks by running the command again (here
    ``kedro run``, the whole pipeline). Every DDP strategy (``ddp``, ``ddp_spawn`` and
    their ``find_unused_parameters`` variants, and ``auto`` on several devices) runs with
    Lightning's spawn launcher instead: the ranks run the fit alone, rank 0 writes the
    checkpoints and logs, and the caller gets the weights back.

    Raises:
        ParameterError: For a strategy or node count that can't run this way (the
            parameter check refuses them before a run starts).
    """
    if problem := launch_problem(t.strategy, t.num_nodes):
        raise ParameterError(f"<model>.model.trainer.{problem}")
    if t.strategy == "single_device" or (t.strategy == "auto" and _device_count(t) == 1):
        return t.strategy
    init = StrategyRegistry[t.strategy]["init_params"] if t.strategy != "auto" else {}
    return DDPStrategy(**{**init, "start_method": "spawn"}, cluster_environment=LocalProcesses())


def make_trainer(
    spec: DeepModelParams, run_dir: Path, callbacks: list[Callback], tracking_prefix: str = ""
) -> L.Trainer:
    """A Lightning trainer from ``<model>.model.trainer``, logging under ``run_dir``.

    Several devices train under DDP in processes spawned from here
    (:func:`lightning_strategy`). When an MLflow run is active (``kedro run
    --env=mlflow``), the epoch metrics go into it too, under ``tracking_prefix``.
    """
    t = spec.trainer
    return L.Trainer(
        max_epochs=t.max_epochs,
        accelerator=t.accelerator,
        devices=t.devices,
        strategy=lightning_strategy(t),
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
    callbacks: list[Callback] = [KnownWarnings(), EpochSeed(seed), checkpoints, *(extra or [])]
    if patience := spec.trainer.early_stopping_patience:
        callbacks.append(EarlyStopping(monitor=MONITOR, mode="max", patience=patience))
    return checkpoints, callbacks


def _datamodule(
    data: TrainingData, spec: DeepModelParams, seed: int
) -> InMemorySegmentationDataModule:
    """Batches of the train and val splits (DDP ranks get a copy of these only)."""
    d = spec.data
    return InMemorySegmentationDataModule(
        replace(data, splits={k: data.splits[k] for k in ("train", "val")}),
        batch_size=d.batch_size,
        num_workers=d.workers(torch.cuda.is_available() and spec.trainer.accelerator != "cpu"),
        augment=d.augment,
        seed=seed,
    )


def _read_back(checkpoints: RunCheckpoints) -> int:
    """After a fit in spawned processes: the epochs run, and the best score and history
    into ``checkpoints``, from the newest epoch checkpoint (rank 0 wrote it)."""
    newest = newest_checkpoint(checkpoints.folder)
    if newest is None:
        return 0
    state = torch.load(newest, map_location="cpu", weights_only=True, mmap=True)
    checkpoints.load_state_dict(state["callbacks"][checkpoints.state_key])
    return int(state["epoch"]) + 1


def _run_fit(
    trainer: L.Trainer,
    task: Any,
    datamodule: InMemorySegmentationDataModule,
    ckpt_path: Path | None,
    checkpoints: RunCheckpoints,
) -> int:
    """Fit (in this process, or in the DDP processes spawned from it); the epochs run.

    After a spawned fit, ``task`` holds the last weights (Lightning's launcher sends
    them back) and ``checkpoints`` the records rank 0 wrote.
    """
    port = os.environ.get("MASTER_PORT")
    with warnings.catch_warnings():
        ignore_known_warnings()
        try:
            trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        finally:  # the spawn launcher sets it in this process; the next fit picks its own
            if port is None:
                os.environ.pop("MASTER_PORT", None)
            else:
                os.environ["MASTER_PORT"] = port
    if isinstance(trainer.strategy, DDPStrategy):
        return _read_back(checkpoints)
    return int(trainer.current_epoch)


def _best_weights(task: Any, best: Path) -> dict[str, torch.Tensor]:
    """The model's weights at the best checkpoint (the last epoch's if there is none)."""
    if best.is_file():
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        task.load_state_dict(state)
    return {k: v.detach().cpu().clone() for k, v in task.model.state_dict().items()}


def _log_start(
    namespace: str, trainer: L.Trainer, data: TrainingData, spec: DeepModelParams
) -> None:
    logger.info(
        "%s: training on %s (%s precision) in %d process(es)%s, %d train / %d val patches, "
        "batch %d per process, max %d epochs",
        namespace,
        trainer.accelerator.__class__.__name__.replace("Accelerator", ""),
        trainer.precision,
        trainer.world_size,
        " (DDP, spawned from this node)" if isinstance(trainer.strategy, DDPStrategy) else "",
        len(data.splits["train"]),
        len(data.splits["val"]),
        spec.data.batch_size,
        spec.trainer.max_epochs,
    )


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
    precision and devices (several devices: DDP in processes spawned from here, see
    :func:`lightning_strategy`), early stopping and best-checkpoint selection on
    ``val/mIoU``, TensorBoard and CSV logs under ``run_dir``. A checkpoint is written
    every epoch; when an earlier run with the same settings was interrupted, training
    resumes from its newest epoch (loaded with ``weights_only=True``) and ends with
    the same weights as an unbroken run (every epoch is seeded from ``seed`` and its
    number).

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
    checkpoints, callbacks = _callbacks(spec, run_dir, seed, extra_callbacks)
    trainer = make_trainer(spec, run_dir, callbacks, f"{namespace}.seed_{seed}")
    fingerprint = _fingerprint(spec, build_config, seed)
    ckpt_path = _start_run(run_dir, fingerprint, spec.trainer, trainer.world_size, namespace)
    _log_start(namespace, trainer, data, spec)
    epochs = _run_fit(trainer, task, _datamodule(data, spec, seed), ckpt_path, checkpoints)
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
        epochs_run=epochs,
    )
