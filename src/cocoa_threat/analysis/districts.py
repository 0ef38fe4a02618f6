"""District boundaries: checked, renamed, reprojected onto the maps; patches to districts."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
from shapely.geometry import box
from shapely.validation import explain_validity

logger = logging.getLogger(__name__)


def prepare_districts(
    raw: gpd.GeoDataFrame,
    name_column: str,
    crs: str,
    bounds: tuple[float, float, float, float],
) -> gpd.GeoDataFrame:
    """Check district boundaries and reproject them to the maps' CRS.

    Args:
        raw: Boundaries in any CRS.
        name_column: The column of the district names (``transition.district_name_column``).
        crs: The maps' CRS.
        bounds: The maps' extent in that CRS.

    Returns:
        One row per district (``district``, geometry) in the maps' CRS.

    Raises:
        ValueError: Missing name column or CRS, invalid geometries (each named),
            or no overlap with the maps.
    """
    if name_column not in raw.columns:
        raise ValueError(
            f"The district file has no column '{name_column}' (columns: {list(raw.columns)}); "
            f"set transition.district_name_column"
        )
    if raw.empty:
        raise ValueError(
            "The district file has no features (no district); point districts_raw "
            "(raw.districts in conf/<env>/globals.yml) at a file with district boundaries"
        )
    if raw.crs is None:
        raise ValueError("The district file has no CRS; give it one (e.g. in QGIS) and re-run")
    invalid = raw[~raw.geometry.is_valid | raw.geometry.isna()]
    if len(invalid):
        details = "; ".join(
            f"{name}: {explain_validity(geom) if geom is not None else 'no geometry'}"
            for name, geom in zip(invalid[name_column], invalid.geometry, strict=True)
        )
        raise ValueError(
            f"Invalid district geometries ({details}); repair them (e.g. QGIS 'Fix "
            f"geometries') and re-run"
        )
    districts = (
        raw[[name_column, "geometry"]]
        .rename(columns={name_column: "district"})
        .to_crs(crs)
        .dissolve(by="district", as_index=False)
    )
    overlap = districts.geometry.intersection(box(*bounds)).area
    if float(overlap.sum()) <= 0:
        b = districts.total_bounds
        raise ValueError(
            f"The district boundaries (bounds {b.round(1).tolist()} in {crs}) do not overlap "
            f"the maps ({[round(v, 1) for v in bounds]}); check the district file and its CRS"
        )
    outside = districts.loc[overlap <= 0, "district"].tolist()
    if outside:
        logger.warning("Districts outside the mapped area: %s", outside)
    return districts


def majority_district(shapes: Any, districts: gpd.GeoDataFrame, outside: str) -> list[str]:
    """The district that overlaps each shape most (``outside`` where none does)."""
    names = []
    for geom in shapes:
        overlap = districts.geometry.intersection(geom).area
        names.append(
            districts["district"].iloc[int(overlap.argmax())] if overlap.max() > 0 else outside
        )
    return names
