"""Interpolators and their cross-validation: leave-one-out by index, spatial blocks, background."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.interpolation import (
    IDW,
    BackgroundKriging,
    cross_validate,
    spatial_blocks,
)

BACKGROUND = float(np.log(1.3))


def _field(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 5000, (n, 2))
    z = np.sin(xy[:, 0] / 800) + np.cos(xy[:, 1] / 1100) + 0.05 * rng.standard_normal(n)
    return xy, z


def test_idw_exact_at_points_and_loo_by_hand() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
    z = np.array([1.0, 3.0, 5.0])
    idw = IDW(power=2, k=2).fit(xy, z)
    np.testing.assert_allclose(idw.predict(xy)[0], z)
    # Leaving out point 0: neighbours at 10 m (3.0) and 20 m (5.0), weights 1/100 and 1/400.
    assert idw.loo()[0] == pytest.approx((3.0 / 100 + 5.0 / 400) / (1 / 100 + 1 / 400))


def test_a_duplicate_reading_never_leaks_the_left_out_value() -> None:
    # Two readings at one place (0 and 10), and others far away. Leaving one out, the
    # other (a real, different reading at the same place) predicts it; never itself.
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [500.0, 0.0], [0.0, 700.0], [900.0, 900.0]])
    z = np.array([0.0, 10.0, 3.0, 4.0, 5.0])
    loo = IDW(power=2, k=3).fit(xy, z).loo()
    assert loo[0] == pytest.approx(10.0) and loo[1] == pytest.approx(0.0)
    # Three readings at the same spot: the other two are averaged.
    xy3 = np.vstack([xy, [[0.0, 0.0]]])
    loo3 = IDW(power=2, k=3).fit(xy3, np.append(z, 20.0)).loo()
    assert loo3[0] == pytest.approx(15.0) and loo3[5] == pytest.approx(5.0)


def test_kriging_loo_closed_form_matches_refitting_without_the_point() -> None:
    xy, z = _field(60)
    gp = BackgroundKriging(background_log=BACKGROUND).fit(xy, z)
    loo = gp.loo()
    from sklearn.gaussian_process import GaussianProcessRegressor

    keep = np.arange(len(z)) != 7
    ref = GaussianProcessRegressor(gp._gp.kernel_, optimizer=None, normalize_y=False)
    ref.fit(xy[keep], z[keep] - BACKGROUND)
    assert loo[7] == pytest.approx(ref.predict(xy[7:8])[0] + BACKGROUND, rel=1e-6, abs=1e-6)


def test_far_from_the_survey_kriging_reverts_to_the_background() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 2000, (40, 2))
    z = np.log(50.0) + 0.3 * rng.standard_normal(40)  # a survey near mining: far above background
    gp = BackgroundKriging(background_log=BACKGROUND, restarts=0).fit(xy, z)
    mean, var = gp.predict(np.array([[1000.0, 1000.0], [200_000.0, 200_000.0]]))
    assert mean[0] > np.log(20) and mean[1] == pytest.approx(BACKGROUND, abs=0.05)
    assert var[1] > var[0] > 0  # and it knows it does not know


def test_spatial_blocks_and_their_cross_validation() -> None:
    xy, z = _field()
    blocks = spatial_blocks(xy, 2500.0)
    assert len(np.unique(blocks)) == 4
    loo = cross_validate(IDW, xy, z)
    by_block = cross_validate(IDW, xy, z, blocks)
    assert loo["n_folds"] == len(z) and by_block["n_folds"] == 4
    # Leaving whole blocks out is harder than leaving single points out.
    assert by_block["rmse"] > loo["rmse"]
    with pytest.raises(ValueError, match="One spatial block holds every point"):
        cross_validate(IDW, xy, z, np.zeros(len(z), int))


def test_cross_validation_prefers_the_smooth_model_on_smooth_data() -> None:
    xy, z = _field()
    blocks = spatial_blocks(xy, 1000.0)

    def kriging() -> BackgroundKriging:
        return BackgroundKriging(background_log=BACKGROUND, restarts=0)

    idw, gp = cross_validate(IDW, xy, z, blocks), cross_validate(kriging, xy, z, blocks)
    assert gp["rmse"] < idw["rmse"]
    assert cross_validate(kriging, xy, z)["r2"] > 0.9
