"""Block-bootstrap intervals and the no-ranking comparison of models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.analysis.metrics import block_bootstrap, scores_from_confusion
from cocoa_threat.models.evaluation import check_same_test_split, verdicts
from cocoa_threat.rendering.tables import comparison_markdown

NAMES = ["background", "mining"]


def _cm(tp0: int, fp: int, fn: int, tp1: int) -> np.ndarray:
    return np.array([[tp0, fp], [fn, tp1]])


def test_identical_blocks_give_a_point_interval() -> None:
    cms = np.stack([_cm(90, 5, 5, 20)] * 12)
    ci = block_bootstrap(cms, np.arange(12), NAMES, n_resamples=200)
    point = scores_from_confusion(cms.sum(axis=0), NAMES)["miou"]
    assert ci["miou"] == pytest.approx([point, point])
    assert ci["n_blocks"] == 12


def test_blocks_not_tiles_are_resampled() -> None:
    # Two tiles per block, perfectly correlated within the block; the interval
    # must be as wide as resampling 6 blocks allows, not 12 tiles.
    rng = np.random.default_rng(0)
    per_block = [_cm(90, int(e), int(e), 20) for e in rng.integers(0, 30, 6)]
    cms = np.stack([c for c in per_block for _ in range(2)])
    by_block = block_bootstrap(cms, np.repeat(np.arange(6), 2), NAMES, n_resamples=2000)
    by_tile = block_bootstrap(cms, np.arange(12), NAMES, n_resamples=2000)
    width = lambda ci: ci["miou"][1] - ci["miou"][0]  # noqa: E731
    assert width(by_block) > 1.2 * width(by_tile)


def test_too_few_blocks_give_no_interval(caplog: pytest.LogCaptureFixture) -> None:
    cms = np.stack([_cm(90, 5, 5, 20), _cm(80, 9, 1, 10), _cm(70, 1, 2, 30)])
    ci = block_bootstrap(cms, ["a", "b", "c"], NAMES, min_blocks=5)
    assert np.isnan(ci["miou"]).all() and np.isnan(ci["iou"]["mining"]).all()
    assert "Only 3 test block(s)" in caplog.text


def _table(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    out = []
    for model, miou, low, high in rows:
        out.append(
            {
                "model": model,
                "year": "all",
                "miou": miou,
                "miou_ci_low": low,
                "miou_ci_high": high,
                "iou_background": miou,
                "iou_background_ci_low": low,
                "iou_background_ci_high": high,
                "f1_macro": miou,
                "f1_macro_ci_low": low,
                "f1_macro_ci_high": high,
                "n_test_blocks": 10,
                "n_seeds": 1,
                "miou_seed_mean": miou,
                "miou_seed_sd": None,
            }
        )
    return pd.DataFrame(out)


def test_overlapping_intervals_are_not_ranked() -> None:
    table = _table(
        [
            ("prithvi", 0.62, 0.55, 0.70),
            ("resnet50", 0.66, 0.60, 0.72),
            ("majority_class", 0.15, 0.12, 0.18),
            ("no_interval", 0.40, float("nan"), float("nan")),
        ]
    )
    v = verdicts(table)
    assert v["prithvi"].startswith("not distinguishable from resnet50")
    assert v["resnet50"].startswith("not distinguishable from prithvi")
    assert "below" not in v["resnet50"] and "below" not in v["prithvi"]
    assert v["majority_class"] == ("not distinguishable from no_interval; below prithvi, resnet50")
    table["comparison"] = table["model"].map(v)
    md = comparison_markdown(table)
    assert "0.620 [0.550, 0.700]" in md and "0.400 (no interval)" in md
    assert "- `prithvi`: not distinguishable from resnet50" in md


def test_models_of_different_splits_are_not_compared() -> None:
    same = [{"model": "a", "split_hash": "s1"}, {"model": "b", "split_hash": "s1"}]
    check_same_test_split(same)
    with pytest.raises(ValueError, match=r"different splits of the tiles \(a: s1, b: s2\)"):
        check_same_test_split([same[0], {"model": "b", "split_hash": "s2"}])
