"""The area estimator against the worked example of Olofsson et al. (2014)."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.area import (
    Stratum,
    effective_df,
    stratified_area_estimate,
    stratified_difference_estimate,
)

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


# ---- the design-based estimator for a sample of whole units -------------------------------
def test_difference_estimator_by_hand() -> None:
    # 5 units in the population, mapped total 100; the sample is 3 of them.
    est = stratified_difference_estimate(
        [Stratum("s", 5, 100.0, y=np.array([10.0, 12.0, 14.0]), m=np.array([8.0, 12.0, 10.0]))],
        confidence=0.95,
        total_area=1000.0,
    )
    # d = (2, 0, 4): mean 2, s^2 = 4 -> A = 100 + 5 * 2; V = 5^2 (1 - 3/5) 4 / 3.
    assert est.estimate == pytest.approx(110.0)
    assert est.se == pytest.approx(np.sqrt(25 * 0.4 * 4 / 3))
    # Residuals (0, -2, 2): two units carry the variance -> (8^2 / 32) - 1 = 1 df.
    assert est.df == pytest.approx(1.0)
    half = 12.706204736174698 * est.se  # t(0.975, 1 df)
    assert (est.ci_low, est.ci_high) == pytest.approx((110 - half, 110 + half))
    assert (est.n_units, est.n_population_units) == (3, 5)
    p = 0.11
    assert est.n_eff == pytest.approx(p * (1 - p) / (est.se**2 / 1000**2))


def test_census_has_no_sampling_error() -> None:
    y, m = np.array([3.0, 5.0, 7.0]), np.array([1.0, 5.0, 9.0])
    est = stratified_difference_estimate([Stratum("all", 3, m.sum(), y, m)])
    assert est.estimate == pytest.approx(y.sum()) and est.se == 0.0
    assert est.ci_low == est.ci_high == pytest.approx(y.sum())


@pytest.mark.parametrize(
    ("y", "m", "reason"),
    [
        ([4.0], [3.0], "one sample unit"),
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], "no variation among its 3 sample units"),
        ([], [], "no sample unit"),
    ],
)
def test_no_interval_where_the_design_cannot_support_one(
    y: list, m: list, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    est = stratified_difference_estimate(
        [
            Stratum("blocks along the Offin", 10, 50.0, np.array(y), np.array(m)),
            Stratum("upland", 4, 8.0, np.array([1.0, 2.0]), np.array([1.0, 1.0])),
        ]
    )
    assert np.isnan(est.se) and np.isnan(est.ci_low) and np.isnan(est.ci_high)
    assert any("blocks along the Offin" in w and reason in w for w in est.warnings)
    assert "blocks along the Offin" in caplog.text and np.isfinite(est.estimate)


def test_two_strata_use_satterthwaite_degrees_of_freedom() -> None:
    a = Stratum("a", 10, 40.0, np.array([5.0, 7.0, 9.0]), np.array([4.0, 4.0, 4.0]))
    b = Stratum("b", 20, 10.0, np.array([1.0, 0.0, 2.0, 1.0]), np.array([0.0, 0.0, 0.0, 0.0]))
    est = stratified_difference_estimate([a, b])
    va = 10**2 * (1 - 3 / 10) * np.var([1, 3, 5], ddof=1) / 3
    vb = 20**2 * (1 - 4 / 20) * np.var([1, 0, 2, 1], ddof=1) / 4
    assert est.estimate == pytest.approx(40 + 10 * 3 + 10 + 20 * 1)
    assert est.se == pytest.approx(np.sqrt(va + vb))
    # Effective df: a's residuals (-2, 0, 2) -> 1; b's (0, -1, 1, 0) -> 1.
    assert est.df == pytest.approx((va + vb) ** 2 / (va**2 / 1 + vb**2 / 1))


def test_effective_degrees_of_freedom() -> None:
    assert effective_df(np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])) == pytest.approx(5.0)
    assert effective_df(np.array([0.0, 0.0, 0.0, 0.0, 0.0, -9.0])) == pytest.approx(1.0)
    assert 1.0 < effective_df(np.array([0.0, 0.0, -1.0, -2.0, -3.0, -0.5])) < 5.0


def test_whole_tile_samples_keep_their_coverage_where_the_pixel_formula_fails() -> None:
    """Coverage of the 95% interval over 400 draws of 10 tiles from 60.

    Map errors come in patches (whole tiles off by a common amount), as they do
    for a segmentation model. The between-tile interval holds; the Olofsson
    pixel formula, which takes the 10 tiles' pixels as independent draws, does not.
    """
    rng = np.random.default_rng(3)
    n_tiles, px = 60, 128 * 128
    truth_share = np.clip(rng.beta(2, 8, n_tiles), 0, 1)
    bias = rng.normal(0, 0.08, n_tiles)  # tile-level map error
    mapped_share = np.clip(truth_share + bias, 0, 1)
    y, m = truth_share * px, mapped_share * px
    census = y.sum()
    hits_new = hits_old = 0
    draws = 400
    for _ in range(draws):
        s = rng.choice(n_tiles, 10, replace=False)
        est = stratified_difference_estimate([Stratum("tiles", n_tiles, m.sum(), y[s], m[s])])
        hits_new += est.ci_low <= census <= est.ci_high
        # The old way: the sample tiles' pixels as a stratified pixel sample (2 classes).
        cm = np.zeros((2, 2))
        for i in s:
            both = min(y[i], m[i])
            cm += [[px - m[i] - y[i] + both, y[i] - both], [m[i] - both, both]]
        old = stratified_area_estimate(cm, np.array([px * n_tiles - m.sum(), m.sum()]), ["o", "c"])
        hits_old += old["ci_low"].iloc[1] <= census <= old["ci_high"].iloc[1]
    assert hits_new / draws >= 0.9
    assert hits_old / draws < 0.5
