"""Interpolators and their leave-one-out cross-validation."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.interpolation import IDW, GaussianProcess, cross_validate


def _field(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 5000, (n, 2))
    z = np.sin(xy[:, 0] / 800) + np.cos(xy[:, 1] / 1100) + 0.05 * rng.standard_normal(n)
    return xy, z


def test_idw_exact_at_points_and_loo_by_hand() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
    z = np.array([1.0, 3.0, 5.0])
    idw = IDW(power=2, k=2).fit(xy, z)
    np.testing.assert_allclose(idw.predict(xy), z)
    # Leaving out point 0: neighbours at 10 m (3.0) and 20 m (5.0), weights 1/100 and 1/400.
    assert idw.loo()[0] == pytest.approx((3.0 / 100 + 5.0 / 400) / (1 / 100 + 1 / 400))


def test_gp_loo_closed_form_matches_refitting_without_the_point() -> None:
    xy, z = _field(60)
    gp = GaussianProcess().fit(xy, z)
    loo = gp.loo()
    # Refit with the same (fixed) kernel without point 7 and predict it.
    from sklearn.gaussian_process import GaussianProcessRegressor

    keep = np.arange(len(z)) != 7
    ref = GaussianProcessRegressor(gp._gp.kernel_, optimizer=None, normalize_y=False)
    mean, std = gp._gp._y_train_mean, gp._gp._y_train_std
    ref.fit(xy[keep], (z[keep] - mean) / std)
    assert loo[7] == pytest.approx(ref.predict(xy[7:8])[0] * std + mean, rel=1e-6, abs=1e-6)


def test_cross_validation_prefers_the_smooth_model_on_smooth_data() -> None:
    xy, z = _field()
    idw, gp = cross_validate(IDW(), xy, z), cross_validate(GaussianProcess(), xy, z)
    assert gp["rmse"] < idw["rmse"]
    assert gp["r2"] > 0.9
