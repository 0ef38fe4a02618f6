"""One model version per result: every product of a map says which trained model made it.

The land-use maps carry the model's catalog version in their GeoTIFF tags
(``model_version``); every table computed from them carries it in a
``model_version`` column, and each step that combines products refuses inputs
whose versions disagree, naming them, instead of mixing two models' results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

VERSION = "model_version"
_UNKNOWN = {"", "None", "nan"}


def _clean(version: Any) -> str | None:
    if version is None or (isinstance(version, float) and pd.isna(version)):
        return None
    text = str(version)
    return None if text in _UNKNOWN else text


def raster_version(source: Any) -> str | None:
    """The model version in a raster's tags (a ``RasterSource``), None if it has none."""
    return _clean(getattr(source, "tags", {}).get(VERSION))


def table_version(table: pd.DataFrame | None, name: str) -> str | None:
    """The one model version of a table (None without the column).

    Raises:
        ValueError: If the table mixes rows of several versions.
    """
    if table is None or VERSION not in table:
        return None
    versions = sorted({v for v in map(_clean, table[VERSION]) if v is not None})
    if len(versions) > 1:
        raise ValueError(
            f"{name} mixes results of model versions {versions}; re-run the pipelines from "
            f"inference (`kedro run --from-nodes=inference.select_model`)"
        )
    return versions[0] if versions else None


def one_version(versions: Mapping[str, str | None], step: str) -> str | None:
    """The model version that all the named inputs share (inputs without one are skipped).

    Args:
        versions: Input name -> its model version (None: unknown).
        step: What is about to combine them (for the message).

    Raises:
        ValueError: Naming each input and its version when they disagree.
    """
    known = {name: v for name, v in versions.items() if _clean(v) is not None}
    if len(set(known.values())) > 1:
        listed = ", ".join(f"{name} from {v}" for name, v in known.items())
        raise ValueError(
            f"{step}: the inputs come from different trained models ({listed}). Re-run "
            f"the pipelines from inference so that one model version feeds every result "
            f"(`kedro run --from-nodes=inference.select_model`)."
        )
    return next(iter(known.values()), None)


def stamped(table: pd.DataFrame, version: str | None) -> pd.DataFrame:
    """A copy of ``table`` with its ``model_version`` column (last)."""
    return table.drop(columns=[VERSION], errors="ignore").assign(**{VERSION: version})
