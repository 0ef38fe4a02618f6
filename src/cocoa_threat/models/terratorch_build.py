"""Building TerraTorch models: pretrained-weight resolution and rebuild from a build config.

A *build config* is everything needed to rebuild a trained model's exact
architecture and its input normalisation, without the training parameters::

    {
        "kind": "terratorch",
        "model_factory": "EncoderDecoderFactory",
        "model_args": {...},
        "bands": [...],
        "means": [...],
        "stds": [...],
        "class_names": [...],
        "ignore_index": 255,
        "image_nodata": -9999.0,
    }

It is saved beside the weights (a state_dict), so inference needs only those two.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cocoa_threat.errors import SourceUnavailableError
from cocoa_threat.models.fast_paths import use_fast_paths
from cocoa_threat.params.training import DeepModelParams, WeightsSpec

logger = logging.getLogger(__name__)

TASK = "segmentation"


def resolve_pretrained(weights: WeightsSpec, namespace: str) -> Path | None:
    """Find (and if needed download) the pretrained backbone checkpoint.

    Called before training starts, so a missing file fails fast; never falls
    back to random weights silently.

    Args:
        weights: The ``weights`` block of the model.
        namespace: The model's namespace, for messages (e.g. ``prithvi``).

    Returns:
        The checkpoint file, or ``None`` for ``source: none`` / ``imagenet``.

    Raises:
        SourceUnavailableError: The Hub can't be reached or the file is missing.
        FileNotFoundError: ``local_path`` does not exist.
    """
    if weights.source in ("none", "imagenet"):
        return None
    if weights.source == "local":
        path = Path(weights.local_path or "")
        if not path.is_file():
            raise FileNotFoundError(
                f"{namespace}.model.weights.local_path: checkpoint {path} does not exist. "
                f"Download {weights.filename or 'the checkpoint'} (Hugging Face "
                f"{weights.repo_id or 'ibm-nasa-geospatial/Prithvi-EO-2.0-300M'}) and put it "
                f"there, or set {namespace}.model.weights.source: none for random weights."
            )
        return path
    from huggingface_hub import hf_hub_download

    try:
        return Path(
            hf_hub_download(
                repo_id=weights.repo_id or "",
                filename=weights.filename or "",
                revision=weights.revision,
                cache_dir=weights.cache_dir,
            )
        )
    except Exception as exc:  # offline, missing file, auth: all mean "not here"
        raise SourceUnavailableError(
            f"Could not get the pretrained weights {weights.filename} of {weights.repo_id} "
            f"from the Hugging Face Hub ({type(exc).__name__}: {exc}). Training did not "
            f"start. Download the file by hand (e.g. `hf download {weights.repo_id} "
            f"{weights.filename} --local-dir data/06_models/pretrained`), then set "
            f"{namespace}.model.weights.source: local and "
            f"{namespace}.model.weights.local_path: data/06_models/pretrained/"
            f"{weights.filename}; or set {namespace}.model.weights.source: none to train "
            f"from random weights on purpose."
        ) from exc


def architecture_args(spec: DeepModelParams, n_classes: int, bands: list[str]) -> dict[str, Any]:
    """The factory arguments that define the architecture (no pretrained weights)."""
    args = copy.deepcopy(spec.model_args)
    args["num_classes"] = n_classes
    if spec.model_factory == "EncoderDecoderFactory":
        args.setdefault("backbone_bands", list(bands))
        args["backbone_pretrained"] = False
    else:
        args.setdefault("bands", list(bands))
        args.setdefault("in_channels", len(bands))
        args["pretrained"] = None
    return args


def training_args(
    spec: DeepModelParams, n_classes: int, bands: list[str], checkpoint: Path | None
) -> dict[str, Any]:
    """Factory arguments for training: the architecture plus the pretrained weights.

    TerraTorch honours ``backbone_ckpt_path`` only with ``backbone_pretrained: true``.
    """
    args = architecture_args(spec, n_classes, bands)
    if spec.model_factory == "EncoderDecoderFactory" and checkpoint is not None:
        args["backbone_pretrained"] = True
        args["backbone_ckpt_path"] = str(checkpoint)
    if spec.model_factory == "SMPModelFactory" and spec.weights.source == "imagenet":
        args["pretrained"] = "imagenet"
    return args


def build_model(model_factory: str, model_args: dict[str, Any]) -> nn.Module:
    """Build a TerraTorch segmentation model with a registered factory."""
    from terratorch.registry import MODEL_FACTORY_REGISTRY

    factory = MODEL_FACTORY_REGISTRY.build(model_factory)
    model = factory.build_model(TASK, **copy.deepcopy(model_args))
    use_fast_paths(model)
    return model


def model_from_build_config(
    build_config: dict[str, Any], state_dict: dict[str, torch.Tensor] | None = None
) -> nn.Module:
    """Rebuild a trained model from its build config and (optionally) its weights.

    Raises:
        ValueError: If the build config is not a TerraTorch model's.
        RuntimeError: If the weights don't fit the architecture.
    """
    if build_config.get("kind") != "terratorch":
        raise ValueError(f"Not a TerraTorch build config (kind {build_config.get('kind')!r})")
    model = build_model(build_config["model_factory"], build_config["model_args"])
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    return model
