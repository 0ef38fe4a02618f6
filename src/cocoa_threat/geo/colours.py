"""Colour tables of class rasters (GeoTIFF palettes from matplotlib colours)."""

from __future__ import annotations

from typing import Any


def colour_table(
    colours: dict[int, Any], nodata: int | None = None
) -> dict[int, tuple[int, int, int, int]]:
    """A GeoTIFF colour table from matplotlib colours ({code: colour}); nodata transparent."""
    from matplotlib.colors import to_rgba

    table = {
        int(code): tuple(int(round(255 * v)) for v in to_rgba(colour))
        for code, colour in colours.items()
    }
    if nodata is not None:
        table[nodata] = (0, 0, 0, 0)
    return table  # type: ignore[return-value]
