"""Helpers of the figure tests: small rasters, and what a figure really shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cocoa_threat.geo.grid import RasterSource
from tests.conftest import write_tile

ORIGIN = (616000.0, 713000.0)  # top-left corner, EPSG:32630
PIXEL = 10.0


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def raster(path: Path, data: np.ndarray, nodata: float | None) -> RasterSource:
    """A one-band GeoTIFF at ``ORIGIN`` with 10 m pixels, opened as the catalog does."""
    return RasterSource.open(write_tile(path, data[None], ORIGIN, nodata=nodata, pixel=PIXEL))


def map_xy(row: float, col: float) -> tuple[float, float]:
    """Map coordinates of the centre of pixel (row, col) of a raster at ``ORIGIN``."""
    return ORIGIN[0] + (col + 0.5) * PIXEL, ORIGIN[1] - (row + 0.5) * PIXEL


def shown_colour(fig: Figure, ax: Axes, x: float, y: float) -> tuple[float, ...]:
    """The RGBA colour the rendered figure has at data point (x, y) of ``ax``."""
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return tuple(pixels[int(pixels.shape[0] - py), int(px)] / 255.0)


def legend_labels(ax: Axes | Figure) -> list[str]:
    legend = ax.get_legend() if isinstance(ax, Axes) else ax.legends[0]
    return [t.get_text() for t in legend.get_texts()]
