"""Interpolators and their cross-validation: leave-one-out by index, spatial blocks, background."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.interpolation import (
    IDW,
    BackgroundKriging,
    OrdinaryKriging,
    block_cv_bias,
    choose_interpolator,
    cross_validate,
    matern_with_nugget,
    spatial_blocks,
)
from cocoa_threat.params.mercury import MercuryParams

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


def _lagrange(kernel, xy: np.ndarray, z: np.ndarray, at: np.ndarray) -> tuple[float, float]:
    """Ordinary kriging as textbooks write it: the kriging system with a Lagrange multiplier.

    [[C, 1], [1', 0]] [w; m] = [c0; 1]; estimate w'z, variance C(0) - w'c0 - m
    (Cressie 1993, eq. 3.2.12-3.2.13; C(0) with the nugget: a new reading's).
    """
    n = len(z)
    system = np.ones((n + 1, n + 1))
    system[:n, :n], system[n, n] = kernel(xy), 0.0
    c0 = kernel(at[None], xy)[0]
    solution = np.linalg.solve(system, np.append(c0, 1.0))
    w, m = solution[:n], solution[n]
    return float(w @ z), float(kernel.diag(at[None])[0] - w @ c0 - m)


def test_ordinary_kriging_is_the_kriging_system() -> None:
    xy, z = _field(50)
    kernel = matern_with_nugget(700.0, 20_000.0, 1.5).clone_with_theta(np.log([0.8, 900.0, 0.02]))
    ok = OrdinaryKriging().with_kernel(kernel, xy, z)
    targets = np.array([[100.0, 200.0], [2500.0, 2500.0], [xy[3, 0], xy[3, 1]], [9e4, 9e4]])
    mean, var = ok.predict(targets)
    for i, at in enumerate(targets):
        expected_mean, expected_var = _lagrange(kernel, xy, z, at)
        assert mean[i] == pytest.approx(expected_mean, rel=1e-8, abs=1e-8)
        assert var[i] == pytest.approx(expected_var, rel=1e-8, abs=1e-8)
    # Far from every point it reverts to the survey's (GLS) mean, not to a background.
    assert mean[3] == pytest.approx(ok.mean_, abs=1e-6)
    assert ok.mean_ == pytest.approx(z.mean(), abs=0.5)
    # A constant field is reproduced everywhere: the weights sum to 1.
    flat = OrdinaryKriging().with_kernel(kernel, xy, np.full(len(z), 3.0))
    np.testing.assert_allclose(flat.predict(targets)[0], 3.0)


def test_ordinary_kriging_loo_closed_form_matches_refitting_without_the_point() -> None:
    xy, z = _field(40)
    ok = OrdinaryKriging(restarts=0).fit(xy, z)
    loo = ok.loo()
    for i in (0, 7, 39):
        keep = np.arange(len(z)) != i
        alone = OrdinaryKriging().with_kernel(ok.kernel_, xy[keep], z[keep])
        assert loo[i] == pytest.approx(alone.predict(xy[i : i + 1])[0][0], rel=1e-7, abs=1e-7)


def test_ordinary_kriging_fit_finds_the_nugget() -> None:
    from cocoa_threat.analysis.interpolation import _reml

    xy, z = _field(120)
    ok = OrdinaryKriging(restarts=1).fit(xy, z)
    # The smooth field carries a noise of sd 0.05: a nugget of 0.0025.
    assert 0.0025 / 3 < ok.kernel_.get_params()["k2__noise_level"] < 0.0025 * 3
    # The fit is the restricted likelihood's optimum: better than where it started.
    start = matern_with_nugget(500.0, 20_000.0, 1.5)
    assert _reml(ok.kernel_.theta, start, xy, z)[0] < _reml(start.theta, start, xy, z)[0] - 10
    # Its gradient is the derivative of the likelihood (finite differences).
    theta = np.log([0.5, 800.0, 0.01])
    value, gradient = _reml(theta, start, xy, z)
    for k in range(3):
        step = np.zeros(3)
        step[k] = 1e-6
        numeric = (
            _reml(theta + step, start, xy, z)[0] - _reml(theta - step, start, xy, z)[0]
        ) / 2e-6
        assert gradient[k] == pytest.approx(numeric, rel=1e-4, abs=1e-4)
    assert cross_validate(lambda: OrdinaryKriging(restarts=0), xy, z)["r2"] > 0.9


def _mercury(methods: list[str]) -> MercuryParams:
    return MercuryParams.model_validate(
        {
            "survey": {"x_column": "x", "y_column": "y", "crs": "EPSG:32630"},
            "class_breaks_ng_m3": [10.0],
            "class_labels": ["low", "high"],
            "interpolation": {"methods": methods, "cv_block_size_m": 1000.0},
        }
    )


def test_the_block_cv_chooses_the_interpolator() -> None:
    xy, z = _field(80)
    choice = choose_interpolator(xy, z, _mercury(["idw", "ordinary_kriging"]))
    cv = choice.cv
    assert list(cv["scheme"].unique()) == ["leave-one-out", "spatial blocks 1000 m"]
    assert len(cv) == 4 and (cv["n_points"] == 80).all()
    blocks = cv[cv["scheme"] != "leave-one-out"].set_index("method")
    assert blocks.loc["idw", "n_folds"] == len(np.unique(spatial_blocks(xy, 1000.0)))
    # The lowest block RMSE wins (not the lowest leave-one-out), fitted on every point.
    assert choice.name == blocks["rmse"].idxmin()
    assert set(cv.loc[cv["chosen"], "method"]) == {choice.name}
    assert choice.block_bias_log == pytest.approx(blocks.loc[choice.name, "bias"])
    assert choice.model.predict(xy[:3])[0] == pytest.approx(z[:3], abs=0.2)
    bias = block_cv_bias(cv)
    assert bias["interpolation_method"] == choice.name
    assert bias["block_cv_bias_factor"] == pytest.approx(np.exp(choice.block_bias_log))


def test_a_chosen_idw_carries_the_block_cv_error_as_its_variance() -> None:
    xy, z = _field(60)
    choice = choose_interpolator(xy, z, _mercury(["idw"]))
    assert isinstance(choice.model, IDW) and choice.name == "idw"
    rmse = choice.cv.set_index("scheme").loc["spatial blocks 1000 m", "rmse"]
    assert choice.model.residual_var == pytest.approx(rmse**2)
    assert choice.model.predict(xy[:2])[1] == pytest.approx([rmse**2] * 2)


def test_the_bias_needs_one_chosen_block_row() -> None:
    xy, z = _field(40)
    cv = choose_interpolator(xy, z, _mercury(["idw"])).cv
    with pytest.raises(ValueError, match="one chosen method with a spatial-block row"):
        block_cv_bias(cv.assign(chosen=False))
