"""Training: the models (one block per namespace) and what they share (``training``),
in conf/base/parameters_training.yml."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, ValidationError, model_validator

from cocoa_threat.errors import ParameterError
from cocoa_threat.params.base import Block, StrictModel, describe

IN_PROCESS = ("auto", "single_device")  # strategies that train in the Kedro process
SPAWNABLE = ("popen", "spawn")  # start methods of the DDP strategies that can be spawned


class WeightsSpec(StrictModel):
    """Where a pretrained backbone comes from.

    ``huggingface`` downloads ``filename`` from ``repo_id`` (cached in
    ``cache_dir``); ``local`` uses the checkpoint file at ``local_path``;
    ``none`` starts from random weights; ``imagenet`` (SMP encoders only) uses
    the ImageNet weights of the encoder.
    """

    source: Literal["huggingface", "local", "none", "imagenet"] = "none"
    repo_id: str | None = None
    filename: str | None = None
    revision: str = "main"
    cache_dir: str = "data/06_models/pretrained"
    local_path: str | None = None

    @model_validator(mode="after")
    def _check(self) -> WeightsSpec:
        if self.source == "huggingface" and not (self.repo_id and self.filename):
            raise ValueError("weights.repo_id and weights.filename are needed for huggingface")
        if self.source == "local" and not self.local_path:
            raise ValueError("weights.local_path must name a checkpoint file for source local")
        return self


class OptimSpec(StrictModel):
    """Optimiser settings."""

    optimizer: str = "AdamW"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    scheduler: str | None = None
    scheduler_hparams: dict[str, Any] = Field(default_factory=dict)


class DataSpec(StrictModel):
    """Data loading settings."""

    batch_size: int = Field(8, ge=1)
    num_workers: int | Literal["auto"] = "auto"
    augment: bool = True

    def workers(self, cuda: bool) -> int:
        """DataLoader workers: ``auto`` is 4 (at most the cores less one) on CUDA, 0 on the CPU
        (in-memory batches are fastest in the main process there)."""
        if self.num_workers != "auto":
            return int(self.num_workers)
        return max(0, min(4, (os.cpu_count() or 1) - 1)) if cuda else 0


class TrainerSpec(StrictModel):
    """Lightning Trainer settings."""

    max_epochs: int = Field(100, ge=1)
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"
    strategy: str = "auto"
    num_nodes: int = Field(1, ge=1)
    precision: str | None = Field(
        None, description="null = 16-mixed (or bf16-mixed) on CUDA, 32-true on CPU"
    )
    early_stopping_patience: int | None = Field(10, ge=1)
    resume: bool = True
    log_every_n_steps: int = Field(10, ge=1)
    limit_train_batches: int | float | None = None
    limit_val_batches: int | float | None = None
    enable_progress_bar: bool = True

    @model_validator(mode="after")
    def _launchable(self) -> TrainerSpec:
        # Refused before a run starts: a strategy or node count kedro run can't launch.
        if self.strategy != "auto" or self.num_nodes > 1:
            if problem := launch_problem(self.strategy, self.num_nodes):
                raise ValueError(problem)
        return self


def launch_problem(strategy: str, num_nodes: int) -> str | None:
    """Why a ``trainer`` block can't train from ``kedro run`` and what to set (None: it can).

    The devices of one machine train together under DDP, the processes spawned from
    the training node (:func:`cocoa_threat.models.training.lightning_strategy`). Strategies whose launcher runs the
    command again on every rank (FSDP, DeepSpeed, XLA) would run the whole pipeline on
    each; so would every node of a multi-node run.
    """
    if num_nodes > 1:
        return (
            f"num_nodes: {num_nodes}: training on several nodes from kedro run is not "
            f"supported (every node would run the whole pipeline); set num_nodes: 1 and train "
            f"on the devices of one machine (devices: <n>, strategy: ddp), see docs/scaling.md"
        )
    if strategy in IN_PROCESS:
        return None
    from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry

    if strategy not in StrategyRegistry:
        return f"strategy: {strategy!r} is not a Lightning strategy; set auto or ddp"
    entry = StrategyRegistry[strategy]
    start = entry["init_params"].get("start_method", "popen")
    if entry["strategy"] is DDPStrategy and start in SPAWNABLE:
        return None
    if entry["strategy"] is DDPStrategy:
        why = "forks the kedro process, which fails once CUDA is in use there"
    else:
        why = "is launched by running the command again on every rank (the whole pipeline)"
    return (
        f"strategy: {strategy} {why}; set strategy: ddp (several devices, processes spawned "
        f"from the training node) or auto"
    )


class DeepModelParams(StrictModel):
    """A TerraTorch segmentation model trained with Lightning."""

    kind: Literal["terratorch"]
    description: str = ""
    model_factory: Literal["EncoderDecoderFactory", "SMPModelFactory"]
    model_args: dict[str, Any]
    weights: WeightsSpec = Field(default_factory=WeightsSpec)
    freeze_backbone: bool = False
    loss: str = "ce"
    class_weights: list[float] | None = None
    optim: OptimSpec = Field(default_factory=OptimSpec)
    data: DataSpec = Field(default_factory=DataSpec)
    trainer: TrainerSpec = Field(default_factory=TrainerSpec)

    @model_validator(mode="after")
    def _check(self) -> DeepModelParams:
        pretrained_keys = {"backbone_pretrained", "backbone_ckpt_path", "pretrained"}
        clash = sorted(pretrained_keys & set(self.model_args))
        if clash:
            raise ValueError(
                f"model_args must not set {clash}: choose pretrained weights with "
                f"weights.source (huggingface | local | none) instead"
            )
        smp = self.model_factory == "SMPModelFactory"
        if smp and self.weights.source in ("huggingface", "local"):
            raise ValueError(
                f"weights.source {self.weights.source} is for TerraTorch backbones; for an "
                f"SMP encoder use none (from scratch) or imagenet"
            )
        if not smp and self.weights.source == "imagenet":
            raise ValueError("weights.source imagenet is only for SMPModelFactory encoders")
        return self


class RandomForestParams(StrictModel):
    """A pixel-wise random forest on the same bands."""

    kind: Literal["random_forest"]
    description: str = ""
    n_estimators: int = Field(300, ge=1)
    max_depth: int | None = None
    min_samples_leaf: int = Field(1, ge=1)
    pixels_per_class: int = Field(20000, ge=10, description="Balanced under-sampling per class.")
    n_jobs: int = -1


class ModelSpec(
    RootModel[Annotated[DeepModelParams | RandomForestParams, Field(discriminator="kind")]]
):
    """One model's block (``<model>.model``): a TerraTorch model or a random forest, by ``kind``.

    Nodes receive it from ``params:<model>.model``; ``.root`` is the model's parameters.
    """

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Validate a model block; a :class:`ParameterError` names every bad key."""
        if isinstance(obj, cls):
            return obj
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            kind = obj.get("kind") if isinstance(obj, dict) else None
            raise ParameterError(describe(exc, "<model>.model", {str(kind)})) from None


def parse_model_params(params: Any, key: str) -> DeepModelParams | RandomForestParams:
    """Validate one model block (conf key ``key``, e.g. ``prithvi.model``)."""
    if isinstance(params, ModelSpec):
        return params.root
    try:
        return ModelSpec.model_validate(params).root
    except ParameterError as exc:
        raise ParameterError(str(exc).replace("<model>.model", key)) from None


class TestIntervalSpec(StrictModel):
    """``training.test_intervals``: intervals of the test scores, a jackknife over whole
    test blocks (stratified, design-weighted), Student t."""

    confidence: float = Field(0.95, gt=0, lt=1)
    min_blocks: int = Field(5, ge=2, description="Fewest test blocks for an interval.")
    warn_below_blocks: int = Field(
        15, ge=2, description="Warn that models can't be told apart with fewer test blocks."
    )


class TrainingParams(Block):
    """Settings shared by every model (``training``); the classes are ``land_use``."""

    conf_key = "training"

    models: list[str] = Field(
        default_factory=lambda: ["prithvi", "resnet50", "random_forest"],
        min_length=1,
        description="The model namespaces; each has its own parameter block.",
    )
    image_nodata: float = -9999.0
    eval_batch_size: int = Field(16, ge=1)
    seeds: list[int] = Field(
        default_factory=lambda: [42],
        min_length=1,
        description="Every model is trained once per seed; the best on validation is kept.",
    )
    test_intervals: TestIntervalSpec = Field(default_factory=TestIntervalSpec)

    @model_validator(mode="after")
    def _check(self) -> TrainingParams:
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"training.seeds has duplicates: {self.seeds}")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"training.models has duplicates: {self.models}")
        return self
