"""The area estimator against the worked example of Olofsson et al. (2014)."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.area import stratified_area_estimate

# Olofsson et al. 2014, RSE 148:42-57, section 5 (Tables 8-10): map classes
# deforestation, forest gain, stable forest, stable non-forest; 30 m pixels.
SAMPLE = np.array(
    [
        [66, 0, 5, 4],
        [0, 55, 8, 12],
        [1, 0, 153, 11],
        [2, 1, 9, 313],
    ]
)
MAP_PIXELS = np.array([200_000, 150_000, 3_200_000, 6_450_000])
NAMES = ["deforestation", "forest_gain", "stable_forest", "stable_non_forest"]


def test_olofsson_worked_example() -> None:
    ha = MAP_PIXELS * 0.09
    out = stratified_area_estimate(SAMPLE, ha, NAMES).set_index("class")
    defo = out.loc["deforestation"]
    # The paper: deforestation 21,158 ha +/- 6,158 ha (95% CI); user's 0.88, producer's 0.75.
    assert defo["adjusted_area"] == pytest.approx(21_158, abs=1)
    assert (defo["ci_high"] - defo["adjusted_area"]) == pytest.approx(6_158, abs=2)
    assert defo["users_accuracy"] == pytest.approx(0.88)
    assert defo["producers_accuracy"] == pytest.approx(0.75, abs=0.005)
    # Forest gain: 11,686 ha +/- 3,756 ha.
    gain = out.loc["forest_gain"]
    assert gain["adjusted_area"] == pytest.approx(11_686, abs=1)
    assert (gain["ci_high"] - gain["adjusted_area"]) == pytest.approx(3_756, abs=2)
    # Areas add up to the mapped total; overall accuracy 0.95.
    assert out["adjusted_area"].sum() == pytest.approx(ha.sum())
    assert out.attrs["overall_accuracy"] == pytest.approx(0.947, abs=0.001)


def test_perfect_map_keeps_its_areas() -> None:
    out = stratified_area_estimate(
        np.diag([10, 20, 30]), np.array([1.0, 2.0, 3.0]), ["a", "b", "c"]
    )
    np.testing.assert_allclose(out["adjusted_area"], [1, 2, 3])
    np.testing.assert_allclose(out["se"], 0)


def test_shape_mismatch_fails() -> None:
    with pytest.raises(ValueError, match="3 x 3"):
        stratified_area_estimate(np.ones((2, 2)), np.ones(3), ["a", "b", "c"])
