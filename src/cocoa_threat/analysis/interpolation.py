"""Spatial interpolation of point measurements with leave-one-out cross-validation.

Two methods on the same footing: inverse-distance weighting (k nearest
neighbours) and a Gaussian process (kriging with a Matérn covariance and a
nugget, hyper-parameters fitted by maximum likelihood). Both expose ``fit``,
``predict`` and ``loo`` (leave-one-out predictions, exact for both: IDW simply
leaves the point out; the GP uses the closed form of Rasmussen & Williams 2006,
eq. 5.12, with the fitted hyper-parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.spatial import cKDTree


class Interpolator(Protocol):
    """What the mercury pipeline needs of an interpolator."""

    name: str

    def fit(self, xy: np.ndarray, z: np.ndarray) -> Interpolator: ...

    def predict(self, xy: np.ndarray) -> np.ndarray: ...

    def loo(self) -> np.ndarray: ...


@dataclass
class IDW:
    """Inverse-distance weighting over the ``k`` nearest points."""

    power: float = 2.0
    k: int = 12
    name: str = "idw"
    _tree: Any = field(default=None, repr=False)
    _z: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _xy: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def fit(self, xy: np.ndarray, z: np.ndarray) -> IDW:
        """Store the points."""
        self._xy, self._z = np.asarray(xy, float), np.asarray(z, float)
        self._tree = cKDTree(self._xy)
        return self

    def _weighted(self, dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
        exact = dist[:, 0] < 1e-9
        w = 1.0 / np.maximum(dist, 1e-9) ** self.power
        out = (w * self._z[idx]).sum(axis=1) / w.sum(axis=1)
        out[exact] = self._z[idx[exact, 0]]
        return out

    def predict(self, xy: np.ndarray) -> np.ndarray:
        """Interpolated values at ``xy``."""
        k = min(self.k, len(self._z))
        dist, idx = self._tree.query(np.asarray(xy, float), k=k)
        return self._weighted(dist.reshape(len(xy), k), idx.reshape(len(xy), k))

    def loo(self) -> np.ndarray:
        """Prediction at each point from all the others."""
        k = min(self.k + 1, len(self._z))
        dist, idx = self._tree.query(self._xy, k=k)
        return self._weighted(dist[:, 1:], idx[:, 1:])


@dataclass
class GaussianProcess:
    """Gaussian-process regression (ordinary kriging with a fitted Matérn covariance)."""

    length_scale_m: float = 500.0
    nu: float = 1.5
    name: str = "gaussian_process"
    _gp: Any = field(default=None, repr=False)
    _y: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    def fit(self, xy: np.ndarray, z: np.ndarray) -> GaussianProcess:
        """Fit the covariance hyper-parameters by maximum likelihood."""
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            self.length_scale_m, (10.0, 1e5), nu=self.nu
        ) + WhiteKernel(0.1, (1e-5, 1e1))
        self._gp = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=2, random_state=0
        )
        self._gp.fit(np.asarray(xy, float), np.asarray(z, float))
        self._y = np.asarray(z, float)
        return self

    def predict(self, xy: np.ndarray) -> np.ndarray:
        """Posterior mean at ``xy``."""
        return self._gp.predict(np.asarray(xy, float))

    def loo(self) -> np.ndarray:
        """Closed-form leave-one-out means with the fitted hyper-parameters."""
        gp = self._gp
        k = gp.kernel_(gp.X_train_)
        k_inv = np.linalg.inv(k)
        y = (self._y - gp._y_train_mean) / gp._y_train_std
        loo = y - (k_inv @ y) / np.diag(k_inv)
        return loo * gp._y_train_std + gp._y_train_mean


def cross_validate(method: Interpolator, xy: np.ndarray, z: np.ndarray) -> dict[str, float]:
    """Leave-one-out errors of ``method`` on (xy, z)."""
    pred = method.fit(xy, z).loo()
    resid = pred - z
    ss_tot = float(((z - z.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(resid**2))),
        "mae": float(np.mean(np.abs(resid))),
        "bias": float(np.mean(resid)),
        "r2": 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan"),
    }
