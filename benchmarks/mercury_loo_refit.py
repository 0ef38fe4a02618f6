"""What leave-one-out of the kriging gains by reusing hyper-parameters fitted on all points.

The pipeline's leave-one-out of ``background_kriging`` uses the closed form with the
covariance fitted on every reading (the left-out one included); its spatial-block CV
refits in every fold. This script measures the difference on a survey: the closed-form
LOO RMSE against a LOO that refits the hyper-parameters without each reading.

    python benchmarks/mercury_loo_refit.py [data/03_primary/mercury_points.gpkg]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml

from cocoa_threat.analysis.interpolation import cross_validate, interpolators
from cocoa_threat.params.mercury import MercuryParams

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Print both RMSEs and the time each took."""
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/03_primary/mercury_points.gpkg"
    points = gpd.read_file(path)
    conf = yaml.safe_load((ROOT / "conf/base/parameters_mercury.yml").read_text())["mercury"]
    make = interpolators(MercuryParams.model_validate(conf))["background_kriging"]
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    z = points["log_concentration"].to_numpy()

    t0 = time.perf_counter()
    closed = cross_validate(make, xy, z)  # closed form, all-point hyper-parameters
    t_closed = time.perf_counter() - t0
    t0 = time.perf_counter()
    refit = cross_validate(make, xy, z, blocks=np.arange(len(z)))  # one point per fold
    t_refit = time.perf_counter() - t0
    result = {
        "n_points": len(z),
        "loo_rmse_closed_form": closed["rmse"],
        "loo_rmse_refit": refit["rmse"],
        "seconds_closed_form": t_closed,
        "seconds_refit": t_refit,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
