"""Scoring a model on a split: per-year scores, block-bootstrap intervals, model comparison.

Test patches come in whole spatial blocks, so every interval resamples blocks,
and two models are called different only when their intervals do not overlap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.analysis.metrics import block_bootstrap, confusion_matrix, scores_from_confusion
from cocoa_threat.models.data import SplitArrays

ALL = "all"


def tile_confusions(
    prediction: np.ndarray, split: SplitArrays, n_classes: int, ignore_index: int
) -> np.ndarray:
    """(N, k, k) confusion matrices (reference rows) of every patch of a split."""
    return np.stack(
        [
            confusion_matrix(split.labels[i], prediction[i], n_classes, ignore_index)
            for i in range(len(split))
        ]
    )


def score_split(
    cms: np.ndarray,
    split: SplitArrays,
    class_names: list[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    min_blocks: int = 5,
) -> dict[str, Any]:
    """Scores per year and for all years, each with block-bootstrap intervals.

    Args:
        cms: Per-patch confusion matrices (from :func:`tile_confusions`).
        split: The split (its years and blocks).
        class_names: Class names.
        n_resamples: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Bootstrap seed (the same for every model: paired resamples).
        min_blocks: Fewest blocks for an interval.

    Returns:
        ``{year: scores}`` with ``"all"``; each as
        :func:`~cocoa_threat.analysis.metrics.scores_from_confusion` plus ``ci``.
    """
    blocks = split.blocks if split.blocks is not None else np.asarray(split.samples)
    groups = {str(y): split.years == y for y in sorted(set(split.years.tolist()))}
    groups[ALL] = np.ones(len(split), dtype=bool)
    out = {}
    for name, keep in groups.items():
        scores = scores_from_confusion(cms[keep].sum(axis=0), class_names)
        scores["ci"] = block_bootstrap(
            cms[keep], blocks[keep], class_names, n_resamples, confidence, seed, min_blocks
        )
        out[name] = scores
    return out


def per_tile_records(cms: np.ndarray, split: SplitArrays) -> list[dict[str, Any]]:
    """The per-patch confusion matrices with their sample, year and block (for the JSON)."""
    blocks = split.blocks if split.blocks is not None else np.asarray(split.samples)
    return [
        {
            "sample": split.samples[i],
            "year": int(split.years[i]),
            "block": str(blocks[i]),
            "confusion_matrix": cms[i].tolist(),
        }
        for i in range(len(split))
    ]


def majority_metrics(metrics: dict[str, Any], bootstrap: dict[str, Any]) -> dict[str, Any]:
    """The majority-class baseline on the same test patches as ``metrics`` (with intervals).

    It predicts the most frequent reference class of the whole test split everywhere.
    """
    tiles = metrics["test_tiles"]
    cms = np.asarray([t["confusion_matrix"] for t in tiles])
    support = cms.sum(axis=2)  # (N, k) reference pixels per class
    majority = int(np.argmax(support.sum(axis=0)))
    base = np.zeros_like(cms)
    base[:, :, majority] = support
    split = SplitArrays(
        images=np.empty((len(tiles), 0, 0, 0)),
        labels=np.empty((len(tiles), 0, 0)),
        samples=[t["sample"] for t in tiles],
        years=np.asarray([t["year"] for t in tiles]),
        blocks=np.asarray([t["block"] for t in tiles]),
    )
    return {
        "model": "majority_class",
        "test": score_split(base, split, metrics["class_names"], **bootstrap),
        "seeds": [],
    }


def check_same_test_split(metrics: list[dict[str, Any]]) -> None:
    """Refuse to compare models scored on different splits of the tiles.

    Raises:
        ValueError: Naming each model's split and what to retrain.
    """
    splits = {m["model"]: m.get("split_hash") for m in metrics}
    if len(set(splits.values())) > 1:
        listed = ", ".join(f"{model}: {h}" for model, h in splits.items())
        raise ValueError(
            f"The models were trained and tested on different splits of the tiles ({listed}), "
            "so their test scores can't be compared. Retrain the models of an older split "
            "(`kedro run --pipeline=training --namespaces=<model>`)."
        )


def comparison_rows(metrics: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model and year: scores, intervals, the seeds' spread."""
    rows = []
    for m in metrics:
        seeds = [s["test_miou"] for s in m.get("seeds", []) if s.get("test_miou") is not None]
        for year, s in m["test"].items():
            ci = s["ci"]
            row: dict[str, Any] = {
                "model": m["model"],
                "year": year,
                "miou": s["miou"],
                "miou_ci_low": ci["miou"][0],
                "miou_ci_high": ci["miou"][1],
            }
            for c, v in s["per_class"].items():
                row[f"iou_{c}"] = v["iou"]
                row[f"iou_{c}_ci_low"], row[f"iou_{c}_ci_high"] = ci["iou"][c]
            row.update(
                {
                    "f1_macro": s["f1_macro"],
                    "f1_macro_ci_low": ci["f1_macro"][0],
                    "f1_macro_ci_high": ci["f1_macro"][1],
                    "overall_accuracy": s["overall_accuracy"],
                    "n_pixels": s["n_pixels"],
                    "n_test_blocks": ci["n_blocks"],
                    "n_seeds": len(seeds),
                    "miou_seed_mean": float(np.mean(seeds)) if seeds and year == ALL else None,
                    "miou_seed_sd": float(np.std(seeds, ddof=1))
                    if len(seeds) > 1 and year == ALL
                    else None,
                }
            )
            rows.append(row)
    return pd.DataFrame(rows)


def _overlap(a: pd.Series, b: pd.Series) -> bool:
    """Whether two mIoU intervals overlap (no interval: can't tell them apart either)."""
    bounds = [a["miou_ci_low"], a["miou_ci_high"], b["miou_ci_low"], b["miou_ci_high"]]
    if any(v is None or np.isnan(v) for v in bounds):
        return True
    return not (a["miou_ci_high"] < b["miou_ci_low"] or b["miou_ci_high"] < a["miou_ci_low"])


def verdicts(table: pd.DataFrame) -> pd.Series:
    """For every model (all years): which others its mIoU interval overlaps.

    Overlapping 95% intervals mean the test tiles can't tell the two apart, so
    no ranking is claimed between them.
    """
    rows = table[table["year"] == ALL].set_index("model")
    out = {}
    for name, r in rows.iterrows():
        same = [other for other, o in rows.iterrows() if other != name and _overlap(r, o)]
        below = [
            o for o in rows.index if o != name and o not in same and rows.loc[o, "miou"] > r["miou"]
        ]
        if same:
            text = "not distinguishable from " + ", ".join(same)
        else:
            text = "distinguishable from every other model"
        if below:
            text += "; below " + ", ".join(below)
        out[name] = text
    return pd.Series(out)


def evaluate_on_test(
    model: Any,
    data: Any,
    seed_models: list[tuple[int, float | None, Any]],
    bootstrap: dict[str, Any],
) -> dict[str, Any]:
    """Test scores of a model (with block-bootstrap intervals) and of every seed's model.

    Args:
        model: The kept model (a :class:`~cocoa_threat.models.base.SegmentationModel`).
        data: The :class:`~cocoa_threat.models.data.TrainingData` (only ``test`` is used).
        seed_models: (seed, validation mIoU, model) of every seed trained.
        bootstrap: Settings of :func:`score_split`.

    Returns:
        ``test`` (per year and overall, with ``ci``), ``seeds`` (test mIoU and
        macro F1 of each seed's model), ``test_tiles`` (per-tile confusion
        matrices).
    """
    test = data.splits["test"]
    n, ignore = data.n_classes, data.ignore_index
    cms = tile_confusions(model.predict_labels(test.images), test, n, ignore)
    scores = score_split(cms, test, data.class_names, **bootstrap)
    kept_seed = model.build_config.get("seed")
    seeds = []
    for seed, val_miou, other in seed_models:
        if seed == kept_seed:
            overall = scores[ALL]
        else:
            cm = confusion_matrix(test.labels, other.predict_labels(test.images), n, ignore)
            overall = scores_from_confusion(cm, data.class_names)
        seeds.append(
            {
                "seed": seed,
                "val_miou": val_miou,
                "test_miou": overall["miou"],
                "test_f1_macro": overall["f1_macro"],
                "kept": seed == kept_seed,
            }
        )
    return {"test": scores, "seeds": seeds, "test_tiles": per_tile_records(cms, test)}
