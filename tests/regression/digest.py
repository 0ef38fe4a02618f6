"""A compact digest of a run's outputs, to check that a refactoring changes no result.

Tables become their columns and values (numbers rounded to 6 significant
digits), class rasters a hash of their pixels and their value counts, float
rasters a few statistics. ``COCOA_UPDATE_GOLDEN=1 pytest tests/pipelines/reporting``
rewrites the golden file when a change of results is intended (say why in the commit).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio

GOLDEN = Path(__file__).with_name("golden_tiny_region.json")
# Columns that name the run rather than its results (Kedro version timestamps).
RUN_COLUMNS = {"model_version"}


def _round(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return str(value)
        return float(f"{value:.6g}")
    if isinstance(value, np.integer):
        return int(value)
    return value


def table_digest(path: Path, root: Path) -> dict[str, Any]:
    table = pd.read_csv(path)
    table = table.drop(columns=[c for c in table.columns if c in RUN_COLUMNS])

    def value(v: Any) -> Any:
        if isinstance(v, str):  # paths under the run's folder: relative
            return v.replace(str(root.parent), "<project>")
        return _round(v)

    return {
        "columns": list(table.columns),
        "rows": [[value(v) for v in row] for row in table.itertuples(index=False)],
    }


def raster_digest(path: Path) -> dict[str, Any]:
    with rasterio.open(path) as src:
        data = src.read()
        nodata = src.nodata
    if data.dtype.kind in "iu":
        values, counts = np.unique(data, return_counts=True)
        return {
            "sha256": hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
            "counts": {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)},
        }
    valid = data[np.isfinite(data) & (data != nodata)] if nodata is not None else data
    return {
        "shape": list(data.shape),
        "stats": [_round(float(f(valid))) for f in (np.mean, np.std, np.min, np.max)],
    }


def run_digest(root: Path, tables: list[str], rasters: list[str]) -> dict[str, Any]:
    """Digest of the named tables and rasters (paths relative to ``root``)."""
    return {
        "tables": {t: table_digest(root / t, root) for t in tables},
        "rasters": {r: raster_digest(root / r) for r in rasters},
    }


def compare(  # noqa: PLR0911
    actual: Any, expected: Any, where: str = "", rel: float = 1e-4
) -> list[str]:
    """Differences between two digests, numbers compared with a relative tolerance."""
    if isinstance(expected, dict):
        if set(actual) != set(expected):
            return [f"{where}: keys {sorted(set(actual) ^ set(expected))} differ"]
        return [d for k in expected for d in compare(actual[k], expected[k], f"{where}/{k}", rel)]
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items, expected {len(expected)}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in compare(a, e, f"{where}[{i}]", rel)
        ]
    if isinstance(expected, float) and isinstance(actual, int | float):
        if not np.isclose(actual, expected, rtol=rel, atol=1e-9):
            return [f"{where}: {actual} != {expected}"]
        return []
    return [] if actual == expected else [f"{where}: {actual!r} != {expected!r}"]


def check_or_update(digest: dict[str, Any], update: bool) -> list[str]:
    """Compare with the golden file, or rewrite it."""
    if update or not GOLDEN.is_file():
        GOLDEN.write_text(json.dumps(digest, indent=0, sort_keys=True) + "\n")
        return []
    return compare(json.loads(json.dumps(digest)), json.loads(GOLDEN.read_text()))
