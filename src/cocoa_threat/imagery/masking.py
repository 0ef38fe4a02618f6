"""Clear observations: the scene classification (SCL) and the special digital numbers.

Sentinel-2 L2A's scene classification has 12 classes: 0 no data, 1 saturated or
defective, 2 dark area / cast shadows, 3 cloud shadows, 4 vegetation, 5 not
vegetated, 6 water, 7 unclassified, 8 cloud medium probability, 9 cloud high
probability, 10 thin cirrus, 11 snow or ice (ESA, Sentinel-2 L2A product
specification). Which of them are not clear is ``imagery.masking.masked_classes``.
"""

from __future__ import annotations

import numpy as np

SCL_NAMES = {
    0: "no_data",
    1: "saturated_or_defective",
    2: "cast_shadows",
    3: "cloud_shadows",
    4: "vegetation",
    5: "not_vegetated",
    6: "water",
    7: "unclassified",
    8: "cloud_medium_probability",
    9: "cloud_high_probability",
    10: "thin_cirrus",
    11: "snow_or_ice",
}


def clear_mask(
    dn: np.ndarray,
    scl: np.ndarray | None,
    masked_classes: list[int],
    nodata: float,
    saturated: float | None,
) -> np.ndarray:
    """Where an observation is clear in every band.

    Args:
        dn: Digital numbers as stored, (time, band, rows, cols).
        scl: Scene classification, (time, rows, cols); None: no classification.
        masked_classes: SCL classes that are not clear.
        nodata: The digital number of no data.
        saturated: The digital number of saturated pixels (None: none).

    Returns:
        bool (time, rows, cols).
    """
    ok = np.all(dn != nodata, axis=1)
    if np.issubdtype(dn.dtype, np.floating):
        ok &= np.all(np.isfinite(dn), axis=1)
    if saturated is not None:
        ok &= np.all(dn != saturated, axis=1)
    if scl is not None:
        ok &= ~np.isin(scl, masked_classes)
    return ok
