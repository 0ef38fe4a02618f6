"""Spatial interpolation of log-concentrations, with leave-one-out and spatial-block CV.

Two methods on the same footing, both with ``fit``, ``predict`` (mean and variance
of the log-concentration) and ``loo``:

* :class:`IDW`: inverse-distance weighting over the ``k`` nearest points. Its
  leave-one-out excludes each point **by index**, so a second reading at the same
  place stays a neighbour but the left-out reading never predicts itself.
* :class:`BackgroundKriging`: simple kriging (a Gaussian process) of the
  log-concentration around a **known mean**, the log of the background
  concentration, with a Matérn covariance and a nugget fitted by maximum
  likelihood. Far from the survey it reverts to the background, not to the
  survey's mean (which, for a survey aimed at mining, sits far above it). Its
  leave-one-out uses the closed form (Rasmussen & Williams 2006, eq. 5.12) with
  the hyper-parameters fitted on all points; the spatial-block CV refits them in
  every fold.
* :class:`OrdinaryKriging`: the same covariance around an **unknown** constant
  mean, estimated by generalised least squares (the kriging weights sum to 1),
  the hyper-parameters by restricted maximum likelihood. Far from the survey it
  reverts to the survey's mean. Its leave-one-out is Dubrule's (1983) closed form.

The kriging variances include the nugget: they are those of a new reading at the
place, and the mean surface ``exp(mu + var / 2)`` is the expected concentration
of one (see :func:`cocoa_threat.analysis.mercury.surface_producer`).

:func:`cross_validate` scores a method by leave-one-out or by spatial blocks
(every point of a block left out together, the model refitted without them):
readings along one road are correlated, so point-wise LOO flatters a method for
farms far from the roads; the block CV is what chooses the method
(:func:`choose_interpolator`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from cocoa_threat.params.mercury import MercuryParams

logger = logging.getLogger(__name__)


class Interpolator(Protocol):
    """What the mercury pipeline needs of an interpolator."""

    name: str
    variance_note: str  # what the predicted variance is (named in the surface's band)

    def fit(self, xy: np.ndarray, z: np.ndarray) -> Interpolator: ...

    def predict(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def loo(self) -> np.ndarray: ...


@dataclass
class IDW:
    """Inverse-distance weighting over the ``k`` nearest points.

    Its variance is a constant, ``residual_var`` (set it from cross-validation).
    """

    power: float = 2.0
    k: int = 12
    residual_var: float = 0.0
    name: str = "idw"
    variance_note: str = "the spatial-block CV mean squared error"
    _tree: Any = field(default=None, repr=False)
    _z: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _xy: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def fit(self, xy: np.ndarray, z: np.ndarray) -> IDW:
        """Store the points."""
        self._xy, self._z = np.asarray(xy, float), np.asarray(z, float)
        self._tree = cKDTree(self._xy)
        return self

    def _weighted(self, dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Weighted mean of the neighbours; at a point itself, the mean of the readings there."""
        values = self._z[idx]
        zero = dist < 1e-9
        w = 1.0 / np.maximum(dist, 1e-9) ** self.power
        out = (w * values).sum(axis=1) / w.sum(axis=1)
        exact = zero.any(axis=1)
        out[exact] = (values * zero).sum(axis=1)[exact] / zero.sum(axis=1)[exact]
        return out

    def predict(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated values at ``xy`` and the (constant) variance."""
        k = min(self.k, len(self._z))
        dist, idx = self._tree.query(np.asarray(xy, float), k=k)
        mean = self._weighted(dist.reshape(len(xy), k), idx.reshape(len(xy), k))
        return mean, np.full(len(mean), self.residual_var)

    def loo(self) -> np.ndarray:
        """Prediction at each point from all the others (the point excluded by its index)."""
        n = len(self._z)
        k = min(self.k + 1, n)
        dist, idx = self._tree.query(self._xy, k=k)
        dist, idx = dist.reshape(n, k), idx.reshape(n, k)
        own = idx == np.arange(n)[:, None]
        # Drop the point itself wherever it sits among its neighbours (ties at distance 0
        # can put a duplicate first); where it is absent, drop the farthest neighbour.
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k - 1)
        keep = np.ones((n, k), bool)
        keep[np.arange(n), drop] = False
        return self._weighted(dist[keep].reshape(n, k - 1), idx[keep].reshape(n, k - 1))


@dataclass
class BackgroundKriging:
    """Simple kriging of the log-concentration around ``log(background)``.

    A Gaussian process with a known constant mean (the background) and a
    Matérn covariance plus a nugget, fitted by maximum likelihood.
    """

    background_log: float = float(np.log(1.3))
    length_scale_m: float = 500.0
    max_length_scale_m: float = 20_000.0  # plumes from burning sites reach a few km, not 100
    nu: float = 1.5
    restarts: int = 2
    name: str = "background_kriging"
    variance_note: str = "the kriging variance plus the nugget"
    _gp: Any = field(default=None, repr=False)
    _y: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def fit(self, xy: np.ndarray, z: np.ndarray) -> BackgroundKriging:
        """Fit the covariance hyper-parameters by maximum likelihood."""
        from sklearn.gaussian_process import GaussianProcessRegressor

        kernel = matern_with_nugget(self.length_scale_m, self.max_length_scale_m, self.nu)
        self._gp = GaussianProcessRegressor(
            kernel, normalize_y=False, n_restarts_optimizer=self.restarts, random_state=0
        )
        self._y = np.asarray(z, float) - self.background_log
        self._gp.fit(np.asarray(xy, float), self._y)
        return self

    def predict(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (the nugget included) of the log-concentration at ``xy``."""
        mean, std = self._gp.predict(np.asarray(xy, float), return_std=True)
        return mean + self.background_log, std**2

    def loo(self) -> np.ndarray:
        """Closed-form leave-one-out means with the hyper-parameters fitted on all points."""
        k_inv = np.linalg.inv(self._gp.kernel_(self._gp.X_train_))
        loo = self._y - (k_inv @ self._y) / np.diag(k_inv)
        return loo + self.background_log


def matern_with_nugget(length_scale_m: float, max_length_scale_m: float, nu: float) -> Any:
    """The kriging covariance: a variance times a Matérn correlation, plus a nugget."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale_m, (10.0, max_length_scale_m), nu=nu
    ) + WhiteKernel(0.1, (1e-5, 1e1))


@dataclass
class OrdinaryKriging:
    """Ordinary kriging: a Gaussian process around an unknown constant mean.

    The mean is the generalised-least-squares estimate (so the kriging weights
    sum to 1); the covariance is :func:`matern_with_nugget`, its hyper-parameters
    fitted by restricted maximum likelihood (the mean integrated out).
    """

    length_scale_m: float = 500.0
    max_length_scale_m: float = 20_000.0
    nu: float = 1.5
    restarts: int = 2
    name: str = "ordinary_kriging"
    variance_note: str = "the kriging variance plus the nugget"
    kernel_: Any = field(default=None, repr=False)
    mean_: float = field(default=float("nan"), repr=False)
    _xy: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _y: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _factor: Any = field(default=None, repr=False)

    def fit(self, xy: np.ndarray, z: np.ndarray) -> OrdinaryKriging:
        """Fit the hyper-parameters by REML (``restarts`` more random starts), then condition."""
        xy, y = np.asarray(xy, float), np.asarray(z, float)
        kernel = matern_with_nugget(self.length_scale_m, self.max_length_scale_m, self.nu)
        bounds = kernel.bounds
        starts = [kernel.theta]
        rng = np.random.default_rng(0)
        starts += [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(self.restarts)]
        fits = [
            minimize(_reml, t, args=(kernel, xy, y), jac=True, method="L-BFGS-B", bounds=bounds)
            for t in starts
        ]
        best = min(fits, key=lambda f: f.fun)
        return self.with_kernel(kernel.clone_with_theta(best.x), xy, y)

    def with_kernel(self, kernel: Any, xy: np.ndarray, z: np.ndarray) -> OrdinaryKriging:
        """Condition on the points with a given covariance (no fitting)."""
        self._xy, self._y, self.kernel_ = np.asarray(xy, float), np.asarray(z, float), kernel
        self._factor = linalg.cho_factor(kernel(self._xy), lower=True)
        ones = linalg.cho_solve(self._factor, np.ones(len(self._y)))
        self.mean_ = float(ones @ self._y / ones.sum())
        return self

    def predict(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (the nugget included) of the log-concentration at ``xy``."""
        xy = np.asarray(xy, float)
        cross = self.kernel_(xy, self._xy)  # the nugget does not correlate distinct readings
        solved = linalg.cho_solve(self._factor, cross.T)
        ones = linalg.cho_solve(self._factor, np.ones(len(self._y)))
        mean = self.mean_ + cross @ linalg.cho_solve(self._factor, self._y - self.mean_)
        var = self.kernel_.diag(xy) - np.einsum("ij,ji->i", cross, solved)
        var += (1.0 - cross @ ones) ** 2 / ones.sum()  # the mean's own uncertainty
        return mean, var

    def loo(self) -> np.ndarray:
        """Leave-one-out means, the mean re-estimated without each point (Dubrule 1983).

        With ``A`` the kriging system ``[[K, 1], [1', 0]]``, the error at point i
        is ``(A^-1 [y; 0])_i / (A^-1)_ii``; the hyper-parameters stay those fitted on all.
        """
        n = len(self._y)
        system = np.ones((n + 1, n + 1))
        system[:n, :n], system[n, n] = self.kernel_(self._xy), 0.0
        inverse = np.linalg.inv(system)
        error = (inverse[:n, :n] @ self._y) / np.diag(inverse)[:n]
        return self._y - error


def _reml(
    theta: np.ndarray, kernel: Any, xy: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative restricted log-likelihood of a constant-mean Gaussian process, and its gradient.

    ``0.5 (r' K^-1 r + log|K| + log(1' K^-1 1))`` with ``r`` the residuals from the
    GLS mean (constants dropped); the gradient in the kernel's log-parameters.
    """
    cov, grads = kernel.clone_with_theta(theta)(xy, eval_gradient=True)
    try:
        factor = linalg.cho_factor(cov, lower=True)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    ones = linalg.cho_solve(factor, np.ones(len(y)))
    resid = y - ones @ y / ones.sum()
    alpha = linalg.cho_solve(factor, resid)
    logdet = 2.0 * np.log(np.diag(factor[0])).sum()
    value = 0.5 * (resid @ alpha + logdet + np.log(ones.sum()))
    inverse = linalg.cho_solve(factor, np.eye(len(y)))
    gradient = 0.5 * (
        -np.einsum("i,ijk,j->k", alpha, grads, alpha)
        + np.einsum("ij,jik->k", inverse, grads)
        - np.einsum("i,ijk,j->k", ones, grads, ones) / ones.sum()
    )
    return float(value), gradient


def spatial_blocks(xy: np.ndarray, size_m: float) -> np.ndarray:
    """The block (a square of ``size_m``) of every point, as one integer id."""
    cells = np.floor(np.asarray(xy, float) / size_m).astype(np.int64)
    _, ids = np.unique(cells, axis=0, return_inverse=True)
    return ids.ravel()


def _scores(pred: np.ndarray, z: np.ndarray) -> dict[str, float]:
    resid = pred - z
    ss_tot = float(((z - z.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(resid**2))),
        "mae": float(np.mean(np.abs(resid))),
        "bias": float(np.mean(resid)),
        "r2": 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan"),
    }


def cross_validate(
    make: Callable[[], Interpolator],
    xy: np.ndarray,
    z: np.ndarray,
    blocks: np.ndarray | None = None,
    fitted: Interpolator | None = None,
) -> dict[str, float]:
    """Errors of a method: leave-one-out (``blocks`` None) or leave-one-block-out.

    Args:
        make: Builds a fresh, unfitted interpolator (refitted in every fold).
        xy: Point coordinates (n, 2).
        z: Values (log-concentrations).
        blocks: Block id of every point; None for leave-one-out.
        fitted: For leave-one-out, ``make()`` already fitted on ``xy, z`` (saves a fit).

    Returns:
        rmse, mae, bias, r2 (of the held-out predictions) and the number of folds.
    """
    xy, z = np.asarray(xy, float), np.asarray(z, float)
    if blocks is None:
        pred = (fitted if fitted is not None else make().fit(xy, z)).loo()
        return {**_scores(pred, z), "n_folds": len(z)}
    pred = np.empty_like(z)
    folds = np.unique(blocks)
    for fold in folds:
        out = blocks == fold
        if out.all():
            raise ValueError("One spatial block holds every point; make the blocks smaller")
        pred[out] = make().fit(xy[~out], z[~out]).predict(xy[out])[0]
    return {**_scores(pred, z), "n_folds": len(folds)}


def interpolators(p: MercuryParams) -> dict[str, Callable[[], Interpolator]]:
    """A builder of a fresh, unfitted interpolator for each of ``interpolation.methods``."""
    i = p.interpolation
    available: dict[str, Callable[[], Interpolator]] = {
        "idw": lambda: IDW(power=i.idw_power, k=i.idw_neighbours),
        "background_kriging": lambda: BackgroundKriging(
            background_log=float(np.log(p.background_ng_m3)),
            length_scale_m=i.gp_length_scale_m,
            restarts=i.gp_restarts,
        ),
        "ordinary_kriging": lambda: OrdinaryKriging(
            length_scale_m=i.gp_length_scale_m, restarts=i.gp_restarts
        ),
    }
    return {name: available[name] for name in i.methods}


LOO = "leave-one-out"


@dataclass
class Choice:
    """The interpolator chosen by spatial-block CV, fitted on every point.

    Attributes:
        name: The chosen method (a key of ``interpolation.methods``).
        model: It, fitted on every point (an IDW carries the block-CV error as its variance).
        cv: One row per method and scheme: method, scheme, rmse, mae, bias, r2,
            n_folds, chosen, n_points.
        block_bias_log: The chosen method's spatial-block CV bias of the log values.
    """

    name: str
    model: Interpolator
    cv: pd.DataFrame
    block_bias_log: float


def choose_interpolator(xy: np.ndarray, z: np.ndarray, p: MercuryParams) -> Choice:
    """Score every method by leave-one-out and by spatial blocks; the block CV chooses.

    The blocks are squares of ``interpolation.cv_block_size_m``; every method is
    also fitted on all points (the LOO uses that fit). An IDW has no variance of
    its own: it gets the block-CV mean squared error (log space).
    """
    size = p.interpolation.cv_block_size_m
    schemes = {LOO: None, f"spatial blocks {size:g} m": spatial_blocks(xy, size)}
    methods = interpolators(p)
    fitted = {name: make().fit(xy, z) for name, make in methods.items()}
    rows = [
        {"method": name, "scheme": scheme, **cross_validate(make, xy, z, folds, fitted[name])}
        for name, make in methods.items()
        for scheme, folds in schemes.items()
    ]
    cv = pd.DataFrame(rows)
    by_block = cv[cv["scheme"] != LOO].set_index("method")
    best = str(by_block["rmse"].idxmin())
    cv["chosen"] = cv["method"] == best
    cv["n_points"] = len(z)
    logger.info(
        "Mercury interpolation RMSE (log) by spatial blocks: %s, leave-one-out: %s; using %s",
        by_block["rmse"].round(3).to_dict(),
        cv[cv["scheme"] == LOO].set_index("method")["rmse"].round(3).to_dict(),
        best,
    )
    model = fitted[best]
    if isinstance(model, IDW):
        model.residual_var = float(by_block.loc[best, "rmse"]) ** 2
    return Choice(best, model, cv, float(by_block.loc[best, "bias"]))


def block_cv_bias(cv: pd.DataFrame) -> dict[str, Any]:
    """The chosen method's spatial-block CV bias (log) and its factor ``exp(bias)``.

    Raises:
        ValueError: If ``cv`` (a :attr:`Choice.cv`) has not exactly one chosen
            spatial-block row.
    """
    chosen = cv[cv["chosen"].astype(bool) & (cv["scheme"] != LOO)]
    if len(chosen) != 1:
        raise ValueError(
            "mercury_interpolation_cv must hold one chosen method with a spatial-block row; "
            "re-run the mercury pipeline's interpolate_surface"
        )
    row = chosen.iloc[0]
    bias = float(row["bias"])
    return {
        "interpolation_method": str(row["method"]),
        "block_cv_bias_log": bias,
        "block_cv_bias_factor": float(np.exp(bias)),
    }
