"""Choosing the model that makes the maps, and refusing one that does not fit the data."""

from __future__ import annotations

from typing import Any

from cocoa_threat.models.base import SegmentationModel


def choose_model(models: dict[str, SegmentationModel], wanted: str) -> tuple[str, str]:
    """The model named ``wanted``, or for ``best`` the highest validation mIoU.

    Args:
        models: The trained models, by namespace.
        wanted: ``inference.model``: a namespace or ``best``.

    Returns:
        The chosen namespace and why.

    Raises:
        ValueError: If no model, or not the named one, has been trained.
    """
    if not models:
        raise ValueError("No trained model found: run `kedro run --pipeline=training` first")
    if wanted != "best":
        if wanted not in models:
            raise ValueError(
                f"inference.model is '{wanted}' but that model has not been trained "
                f"(trained: {sorted(models)}); run `kedro run --pipeline=training "
                f"--namespaces=training.{wanted}` or set inference.model to one of those"
            )
        return wanted, "named in inference.model"
    scored = {n: m.training.get("val_miou") for n, m in models.items()}
    scored = {n: v for n, v in scored.items() if v is not None}
    if not scored:
        raise ValueError(
            "inference.model is 'best' but no trained model has a validation mIoU; "
            "re-run `kedro run --pipeline=training` or name a model in inference.model"
        )
    name = max(scored, key=scored.__getitem__)
    reason = "highest validation mIoU among " + ", ".join(
        f"{n} {v:.3f}" for n, v in sorted(scored.items())
    )
    return name, reason


def check_model_matches(model: SegmentationModel, split_hash: str, classes: list[str]) -> None:
    """Refuse a model trained on another split of the tiles, or for other classes.

    Raises:
        ValueError: Naming both splits (or class lists) and what to re-run.
    """
    if model.split_hash != split_hash:
        raise ValueError(
            f"Model '{model.name}' (version {model.version}) was trained on split "
            f"{model.split_hash or 'unknown (an older model)'} but the tiles are now split as "
            f"{split_hash} (tile_manifest): its test scores and maps would mix tiles it has "
            f"seen. Retrain it (`kedro run --pipeline=training --namespaces=training.{model.name}`) or "
            f"re-run ingestion with the split it was trained on."
        )
    if model.class_names != list(classes):
        raise ValueError(
            f"Model '{model.name}' predicts {model.class_names} but land_use.classes is "
            f"{classes}; retrain it (`kedro run --pipeline=training --namespaces=training.{model.name}`)"
        )


def matching_test_score(model: SegmentationModel, metrics: dict[str, Any] | None) -> float | None:
    """The model's test mIoU, only from metrics of the very same model version."""
    if not metrics or metrics.get("model_version") != model.version:
        return None
    return (metrics.get("test", {}).get("all") or {}).get("miou")
