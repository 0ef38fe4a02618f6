"""Scoring a model on a split: per-year scores, jackknife intervals, paired model comparison.

Test patches come in whole spatial blocks drawn by stratified random sampling,
so every score is design-weighted and its interval comes from leaving out one
block at a time (:mod:`cocoa_threat.analysis.metrics`). Two models are ranked
only when the interval of their **paired** mIoU difference (the same block
left out of both) excludes zero: what the blocks share cancels out of it, so
it sees differences that two separate intervals can't.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.analysis.metrics import (
    BlockDesign,
    block_design,
    block_jackknife,
    design_scores,
    paired_jackknife,
)
from cocoa_threat.analysis.metrics import confusion_matrix as pixel_confusion
from cocoa_threat.models.data import SplitArrays

logger = logging.getLogger(__name__)

ALL = "all"


def tile_confusions(
    prediction: np.ndarray, split: SplitArrays, n_classes: int, ignore_index: int
) -> np.ndarray:
    """(N, k, k) confusion matrices (reference rows) of every patch of a split."""
    return np.stack(
        [
            pixel_confusion(split.labels[i], prediction[i], n_classes, ignore_index)
            for i in range(len(split))
        ]
    )


def split_design(split: SplitArrays, keep: np.ndarray | None = None) -> BlockDesign:
    """The blocks, strata and design weights of a split's patches (a subset with ``keep``)."""
    keep = np.ones(len(split), dtype=bool) if keep is None else keep
    blocks = split.blocks if split.blocks is not None else np.asarray(split.samples)
    strata = split.strata[keep] if split.strata is not None else None
    weights = split.weights[keep] if split.weights is not None else None
    return block_design(np.asarray(blocks)[keep], strata, weights)


def score_split(
    cms: np.ndarray,
    split: SplitArrays,
    class_names: list[str],
    confidence: float,
    min_blocks: int,
) -> dict[str, Any]:
    """Scores per year and for all years, each with a jackknife-t interval over blocks.

    Args:
        cms: Per-patch confusion matrices (from :func:`tile_confusions`).
        split: The split (its years, blocks, strata and design weights).
        class_names: Class names.
        confidence: Level of the intervals.
        min_blocks: Fewest blocks for an interval.

    Returns:
        ``{year: scores}`` with ``"all"``; each as
        :func:`~cocoa_threat.analysis.metrics.design_scores` plus ``ci``.
    """
    groups = {str(y): split.years == y for y in sorted(set(split.years.tolist()))}
    groups[ALL] = np.ones(len(split), dtype=bool)
    out = {}
    for name, keep in groups.items():
        design = split_design(split, keep)
        scores = design_scores(cms[keep], design, class_names)
        scores["ci"] = block_jackknife(cms[keep], design, class_names, confidence, min_blocks)
        out[name] = scores
    return out


def per_tile_records(cms: np.ndarray, split: SplitArrays) -> list[dict[str, Any]]:
    """The per-patch confusion matrices with their sample, year, block and design (for the JSON)."""
    blocks = split.blocks if split.blocks is not None else np.asarray(split.samples)
    return [
        {
            "sample": split.samples[i],
            "year": int(split.years[i]),
            "block": str(blocks[i]),
            "stratum": None if split.strata is None else str(split.strata[i]),
            "design_weight": None if split.weights is None else float(split.weights[i]),
            "confusion_matrix": cms[i].tolist(),
        }
        for i in range(len(split))
    ]


def records_split(tiles: list[dict[str, Any]]) -> SplitArrays:
    """The test split's design (no pixels) rebuilt from a metrics JSON's ``test_tiles``."""
    strata = [t.get("stratum") for t in tiles]
    weights = [t.get("design_weight") for t in tiles]
    return SplitArrays(
        images=np.empty((len(tiles), 0, 0, 0)),
        labels=np.empty((len(tiles), 0, 0)),
        samples=[t["sample"] for t in tiles],
        years=np.asarray([t["year"] for t in tiles]),
        blocks=np.asarray([t["block"] for t in tiles]),
        strata=None if None in strata else np.asarray(strata),
        weights=None if None in weights else np.asarray(weights, float),
    )


def majority_metrics(metrics: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The majority-class baseline on the same test patches as ``metrics`` (with intervals).

    It predicts the most frequent reference class of the whole test split everywhere.

    Args:
        metrics: A model's metrics (its ``test_tiles``).
        settings: ``training.test_intervals`` (confidence, min_blocks).
    """
    tiles = metrics["test_tiles"]
    cms = np.asarray([t["confusion_matrix"] for t in tiles])
    support = cms.sum(axis=2)  # (N, k) reference pixels per class
    majority = int(np.argmax(support.sum(axis=0)))
    base = np.zeros_like(cms)
    base[:, :, majority] = support
    split = records_split(tiles)
    return {
        "model": "majority_class",
        "test": score_split(
            base, split, metrics["class_names"], settings["confidence"], settings["min_blocks"]
        ),
        "test_tiles": [
            t | {"confusion_matrix": c.tolist()} for t, c in zip(tiles, base, strict=True)
        ],
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
            "(`kedro run --pipeline=training --namespaces=training.<model>`)."
        )


def comparison_rows(metrics: list[dict[str, Any]], confidence: float) -> pd.DataFrame:
    """One row per model and year: scores, intervals, the seeds' spread, the confidence level."""
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
            overall = year == ALL
            row |= {
                "f1_macro": s["f1_macro"],
                "f1_macro_ci_low": ci["f1_macro"][0],
                "f1_macro_ci_high": ci["f1_macro"][1],
                "overall_accuracy": s["overall_accuracy"],
                "n_pixels": s["n_pixels"],
                "n_test_blocks": ci["n_blocks"],
                "n_test_strata": ci.get("n_strata", 1),
                "confidence": confidence,
                "n_seeds": len(seeds),
                "miou_seed_mean": float(np.mean(seeds)) if seeds and overall else None,
                "miou_seed_sd": float(np.std(seeds, ddof=1))
                if len(seeds) > 1 and overall
                else None,
            }
            rows.append(row)
    return pd.DataFrame(rows)


def _test_cms(metrics: dict[str, Any], samples: list[str]) -> np.ndarray:
    by_sample = {t["sample"]: t["confusion_matrix"] for t in metrics["test_tiles"]}
    missing = set(samples) - set(by_sample)
    if missing:
        raise ValueError(
            f"{metrics['model']} was not scored on test tiles {sorted(missing)[:5]}; "
            "retrain it on the current split"
        )
    return np.asarray([by_sample[s] for s in samples])


def paired_differences(metrics: list[dict[str, Any]], confidence: float) -> pd.DataFrame:
    """mIoU of every ordered pair of models (A - B) on the same test tiles, paired intervals.

    Args:
        metrics: Every model's metrics (with ``test_tiles``), the baseline included.
        confidence: Level of the intervals.

    Returns:
        model, other, diff, diff_ci_low, diff_ci_high, df: one row per ordered pair.
    """
    split = records_split(metrics[0]["test_tiles"])
    design = split_design(split)
    cms = {m["model"]: _test_cms(m, split.samples) for m in metrics}
    rows = []
    for a, cms_a in cms.items():
        for b, cms_b in cms.items():
            if a != b:
                d = paired_jackknife(cms_a, cms_b, design, confidence)
                rows.append(
                    {"model": a, "other": b, "diff": d["diff"], "diff_ci_low": d["low"]}
                    | {"diff_ci_high": d["high"], "df": d["df"]}
                )
    return pd.DataFrame(rows)


def verdicts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Every model's standing from the paired intervals: rank and a sentence.

    A model is above another only where the interval of their paired mIoU
    difference lies wholly above zero. Its rank is one more than the number of
    models above it (equal ranks: not distinguishable).

    Returns:
        Indexed by model: ``rank`` and ``comparison`` (the sentence, with the
        differences and their intervals).
    """
    out = {}
    for model, g in pairs.groupby("model", sort=False):
        above = g[g["diff_ci_low"] > 0]
        below = g[g["diff_ci_high"] < 0]
        same = g[~g.index.isin(above.index) & ~g.index.isin(below.index)]

        def listed(rows: pd.DataFrame) -> str:
            return ", ".join(
                f"{r.other} ({r.diff:+.3f} [{r.diff_ci_low:+.3f}, {r.diff_ci_high:+.3f}])"
                if np.isfinite(r.diff_ci_low)
                else f"{r.other} ({r.diff:+.3f}, no interval)"
                for r in rows.itertuples()
            )

        parts = [
            f"{word} {listed(rows)}"
            for word, rows in (
                ("above", above),
                ("below", below),
                ("not distinguishable from", same),
            )
            if len(rows)
        ]
        out[model] = {"rank": 1 + len(below), "comparison": "; ".join(parts)}
    return pd.DataFrame.from_dict(out, orient="index")


def power_warning(n_blocks: int, threshold: int) -> str:
    """A warning when the test sample has too few blocks to tell close models apart ('' if not)."""
    if n_blocks >= threshold:
        return ""
    text = (
        f"only {n_blocks} test blocks (fewer than {threshold}, "
        f"training.test_intervals.warn_below_blocks): the intervals are wide and only large "
        f"differences between models can be told apart"
    )
    logger.warning("Model comparison: %s", text)
    return text


def evaluate_on_test(
    model: Any,
    data: Any,
    seed_models: list[tuple[int, float | None, Any]],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Test scores of a model (with jackknife intervals) and of every seed's model.

    Args:
        model: The kept model (a :class:`~cocoa_threat.models.base.SegmentationModel`).
        data: The :class:`~cocoa_threat.models.data.TrainingData` (only ``test`` is used).
        seed_models: (seed, validation mIoU, model) of every seed trained.
        settings: ``training.test_intervals`` (confidence, min_blocks).

    Returns:
        ``test`` (per year and overall, with ``ci``), ``seeds`` (design-weighted
        test mIoU and macro F1 of each seed's model), ``test_tiles`` (per-tile
        confusion matrices and design).
    """
    test = data.splits["test"]
    n, ignore = data.n_classes, data.ignore_index
    cms = tile_confusions(model.predict_labels(test.images), test, n, ignore)
    names = data.class_names
    scores = score_split(cms, test, names, settings["confidence"], settings["min_blocks"])
    kept_seed = model.build_config.get("seed")
    design = split_design(test)
    seeds = []
    for seed, val_miou, other in seed_models:
        if seed == kept_seed:
            overall = scores[ALL]
        else:
            other_cms = tile_confusions(other.predict_labels(test.images), test, n, ignore)
            overall = design_scores(other_cms, design, names)
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
