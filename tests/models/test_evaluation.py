"""Jackknife intervals over test blocks, and the paired comparison of models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.analysis.metrics import (
    block_design,
    block_jackknife,
    jackknife_interval,
    paired_jackknife,
    scores_from_confusion,
)
from cocoa_threat.models.evaluation import (
    check_same_test_split,
    comparison_rows,
    paired_differences,
    power_warning,
    verdicts,
)
from cocoa_threat.rendering.tables import comparison_markdown

NAMES = ["background", "mining"]
LEVEL = 0.95  # the level and least number of blocks that conf/base sets
MIN_BLOCKS = 5


def _cm(tp0: int, fp: int, fn: int, tp1: int) -> np.ndarray:
    return np.array([[tp0, fp], [fn, tp1]])


def test_identical_blocks_give_a_point_interval() -> None:
    cms = np.stack([_cm(90, 5, 5, 20)] * 12)
    ci = block_jackknife(cms, block_design(np.arange(12)), NAMES, LEVEL, MIN_BLOCKS)
    point = scores_from_confusion(cms.sum(axis=0), NAMES)["miou"]
    assert ci["miou"] == pytest.approx([point, point])
    assert ci["n_blocks"] == 12 and ci["method"] == "jackknife-t"


def test_jackknife_of_a_mean_is_the_textbook_t_interval_with_the_fpc() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(10, 3, 9)
    loo = (x.sum() - x) / 8
    values = np.concatenate([[x.mean()], loo])
    # 9 blocks, no finite-population correction: mean +/- t(8) s / sqrt(9).
    low, high, dof = jackknife_interval(values, block_design(np.arange(9)), 0.95)
    half = 2.306004135204166 * x.std(ddof=1) / 3
    assert (low, high, dof) == pytest.approx((x.mean() - half, x.mean() + half, 8.0))
    # 9 of 19 blocks (weight 19 / 9): the variance shrinks by 1 - 9/19.
    design = block_design(np.arange(9), weights=np.full(9, 19 / 9))
    low, high, _ = jackknife_interval(values, design, 0.95)
    assert (high - low) / 2 == pytest.approx(half * np.sqrt(1 - 9 / 19))


def test_blocks_not_tiles_are_left_out() -> None:
    # Two tiles per block, perfectly correlated within the block; the interval
    # must be as wide as 6 blocks allow, not 12 tiles.
    rng = np.random.default_rng(0)
    per_block = [_cm(90, int(e), int(e), 20) for e in rng.integers(0, 30, 6)]
    cms = np.stack([c for c in per_block for _ in range(2)])
    by_block = block_jackknife(
        cms, block_design(np.repeat(np.arange(6), 2)), NAMES, LEVEL, MIN_BLOCKS
    )
    by_tile = block_jackknife(cms, block_design(np.arange(12)), NAMES, LEVEL, MIN_BLOCKS)
    width = lambda ci: ci["miou"][1] - ci["miou"][0]  # noqa: E731
    assert width(by_block) > 1.2 * width(by_tile)


def test_too_few_blocks_give_no_interval(caplog: pytest.LogCaptureFixture) -> None:
    cms = np.stack([_cm(90, 5, 5, 20), _cm(80, 9, 1, 10), _cm(70, 1, 2, 30)])
    ci = block_jackknife(cms, block_design(np.array(["a", "b", "c"])), NAMES, LEVEL, min_blocks=5)
    assert np.isnan(ci["miou"]).all() and np.isnan(ci["iou"]["mining"]).all()
    assert "Only 3 test block(s)" in caplog.text


def _population(rng: np.random.Generator, n: int = 19) -> tuple[np.ndarray, np.ndarray]:
    """Per-block confusion matrices of two models on a finite population of blocks."""
    mining = rng.gamma(2.0, 200, n).astype(int)
    background = rng.integers(2000, 6000, n)
    a, b = [], []
    for m, bg in zip(mining, background, strict=True):
        hit_a, hit_b = rng.beta(8, 3), rng.beta(7, 3)
        fp_a, fp_b = rng.poisson(0.04 * bg), rng.poisson(0.05 * bg)
        a.append(_cm(bg - fp_a, fp_a, m - int(hit_a * m), int(hit_a * m)))
        b.append(_cm(bg - fp_b, fp_b, m - int(hit_b * m), int(hit_b * m)))
    return np.stack(a), np.stack(b)


def test_interval_and_paired_difference_hold_the_population_values() -> None:
    """9 of 19 blocks re-drawn 400 times: the mIoU interval (with the finite-population
    correction) and the paired difference's interval cover the population's values."""
    rng = np.random.default_rng(7)
    a, b = _population(rng)
    true_a = scores_from_confusion(a.sum(axis=0), NAMES)["miou"]
    true_diff = true_a - scores_from_confusion(b.sum(axis=0), NAMES)["miou"]
    hits_a = hits_diff = 0
    widths, estimates = [], []
    for _ in range(400):
        s = rng.choice(19, 9, replace=False)
        design = block_design(np.arange(9), weights=np.full(9, 19 / 9))
        low, high = block_jackknife(a[s], design, NAMES, LEVEL, MIN_BLOCKS)["miou"]
        hits_a += low <= true_a <= high
        d = paired_jackknife(a[s], b[s], design, LEVEL)
        hits_diff += d["low"] <= true_diff <= d["high"]
        widths.append(high - low)
        estimates.append(scores_from_confusion(a[s].sum(axis=0), NAMES)["miou"])
    assert 0.90 <= hits_a / 400 <= 0.99
    assert 0.90 <= hits_diff / 400 <= 0.99
    assert np.mean(widths) / (2 * 1.96 * np.std(estimates)) < 1.5  # near the oracle


def _metrics(model: str, cms: np.ndarray, blocks: np.ndarray) -> dict:
    tiles = [
        {"sample": f"t{i}", "year": 2016, "block": str(blk), "stratum": "s1", "design_weight": 2.0}
        | {"confusion_matrix": cm.tolist()}
        for i, (cm, blk) in enumerate(zip(cms, blocks, strict=True))
    ]
    return {"model": model, "test_tiles": tiles}


def test_paired_differences_see_what_overlapping_intervals_hide() -> None:
    """Model a beats b by a little on every block, while blocks differ a lot."""
    rng = np.random.default_rng(3)
    hard = rng.integers(5, 60, 10)  # errors per block, shared by both models
    a = np.stack([_cm(400, int(e), int(e), 100) for e in hard])
    b = np.stack([_cm(400, int(e) + 6, int(e) + 6, 100) for e in hard])
    design = block_design(np.arange(10), weights=np.full(10, 2.0))
    ci_a = block_jackknife(a, design, NAMES, LEVEL, MIN_BLOCKS)["miou"]
    ci_b = block_jackknife(b, design, NAMES, LEVEL, MIN_BLOCKS)["miou"]
    assert ci_a[0] < ci_b[1]  # the separate intervals overlap ...
    pairs = paired_differences(
        [_metrics("a", a, np.arange(10)), _metrics("b", b, np.arange(10))], 0.95
    )
    ab = pairs[(pairs["model"] == "a") & (pairs["other"] == "b")].iloc[0]
    assert ab["diff_ci_low"] > 0  # ... the paired difference does not
    v = verdicts(pairs)
    assert v.loc["a", "rank"] == 1 and v.loc["b", "rank"] == 2
    assert v.loc["a", "comparison"].startswith("above b (+0.0")
    assert v.loc["b", "comparison"].startswith("below a (-0.0")


def test_models_within_noise_share_a_rank() -> None:
    rng = np.random.default_rng(4)
    a = np.stack([_cm(400, int(e), int(e), 100) for e in rng.integers(5, 60, 10)])
    b = np.stack([_cm(400, int(e), int(e), 100) for e in rng.integers(5, 60, 10)])
    pairs = paired_differences(
        [_metrics("a", a, np.arange(10)), _metrics("b", b, np.arange(10))], LEVEL
    )
    v = verdicts(pairs)
    assert v["rank"].tolist() == [1, 1]
    assert v.loc["a", "comparison"].startswith("not distinguishable from b (")


def _table(rows: list[tuple[str, float, float, float]], confidence: float) -> pd.DataFrame:
    out = []
    for model, miou, low, high in rows:
        ci = {"miou": [low, high], "f1_macro": [low, high], "iou": {"mining": [low, high]}}
        scores = {"miou": miou, "per_class": {"mining": {"iou": miou}}, "f1_macro": miou}
        scores |= {"overall_accuracy": miou, "n_pixels": 10, "ci": ci | {"n_blocks": 9}}
        out.append({"model": model, "test": {"all": scores}, "seeds": []})
    return comparison_rows(out, confidence)


def test_markdown_says_the_configured_level_ranks_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = _table([("resnet50", 0.8, 0.7, 0.9), ("prithvi", 0.6, float("nan"), 0.7)], 0.9)
    table["rank"] = [1, 2]
    table["comparison"] = ["above prithvi (+0.200 [+0.100, +0.300])", "below resnet50 (...)"]
    table["warning"] = power_warning(9, 15)
    md = comparison_markdown(table)
    assert md.startswith("| model | year | mIoU [90% CI] |") and "95%" not in md
    assert "0.800 [0.700, 0.900]" in md and "0.600 (no interval)" in md
    assert "- `resnet50` (rank 1): above prithvi (+0.200 [+0.100, +0.300])." in md
    assert "Warning: only 9 test blocks (fewer than 15" in md and "fewer than 15" in caplog.text
    assert power_warning(15, 15) == ""


def test_models_of_different_splits_are_not_compared() -> None:
    same = [{"model": "a", "split_hash": "s1"}, {"model": "b", "split_hash": "s1"}]
    check_same_test_split(same)
    with pytest.raises(ValueError, match=r"different splits of the tiles \(a: s1, b: s2\)"):
        check_same_test_split([same[0], {"model": "b", "split_hash": "s2"}])
