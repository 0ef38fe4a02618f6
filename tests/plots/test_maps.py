"""Map figures: class rasters, the change map and the mercury surface."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from matplotlib.colors import LogNorm, to_rgba
from shapely.geometry import Point, box

from cocoa_threat.analysis.transitions import ChangeScheme
from cocoa_threat.plots.change import plot_change_map
from cocoa_threat.plots.maps import plot_class_raster
from cocoa_threat.plots.mercury import plot_mercury_surface
from tests.plots.conftest import ORIGIN, legend_labels, map_xy, raster, shown_colour

COLOURS = {"background": "#e8e3c9", "mining": "#d7301f", "cocoa": "#1a7a3a"}
RED = (1.0, 0.0, 0.0, 1.0)  # axes background: what shows through transparent pixels


def _districts(crs: str = "EPSG:32630") -> gpd.GeoDataFrame:
    """Two districts side by side over a 600 m x 300 m raster at ORIGIN."""
    x0, y0 = ORIGIN
    halves = [box(x0, y0 - 300, x0 + 300, y0), box(x0 + 300, y0 - 300, x0 + 600, y0)]
    frame = gpd.GeoDataFrame(
        {"district": ["Amansie West", "Amansie Central"]}, geometry=halves, crs="EPSG:32630"
    )
    return frame.to_crs(crs)


@pytest.fixture
def classes(tmp_path: Path):
    """30 x 60 px: background | cocoa | nodata, with a code (7) that has no colour."""
    data = np.zeros((30, 60), dtype=np.uint8)
    data[:, 20:40] = 2
    data[:, 40:] = 255
    data[:10, :10] = 7
    return raster(tmp_path / "classes.tif", data, nodata=255)


def test_class_raster_colours_classes_and_leaves_nodata_transparent(classes) -> None:
    fig = plot_class_raster(
        classes, [0, 1, 2], ["background", "mining", "cocoa"], list(COLOURS.values()), "Before"
    )
    ax = fig.axes[0]
    ax.set_facecolor(RED)
    assert len(ax.images) == 1
    assert shown_colour(fig, ax, *map_xy(20, 5)) == pytest.approx(to_rgba(COLOURS["background"]))
    assert shown_colour(fig, ax, *map_xy(15, 30)) == pytest.approx(to_rgba(COLOURS["cocoa"]))
    assert shown_colour(fig, ax, *map_xy(15, 50)) == pytest.approx(RED)  # nodata
    assert shown_colour(fig, ax, *map_xy(5, 5)) == pytest.approx(RED)  # a code without colour


def test_class_raster_is_a_map_in_km_with_legend_title_and_scale_bar(classes) -> None:
    labels = ["background", "mining", "cocoa"]
    fig = plot_class_raster(classes, [0, 1, 2], labels, list(COLOURS.values()), "Before")
    ax = fig.axes[0]
    assert ax.get_title() == "Before"
    assert legend_labels(ax) == labels
    faces = [h.get_facecolor() for h in ax.get_legend().legend_handles]
    assert faces == [pytest.approx(to_rgba(c)) for c in COLOURS.values()]
    # North up over the raster's bounds: 600 m wide, 300 m tall.
    x0, y0 = ORIGIN
    assert ax.images[0].get_extent() == pytest.approx([x0, x0 + 600, y0 - 300, y0])
    assert ax.get_xlim() == pytest.approx((x0, x0 + 600))
    assert ax.get_ylim() == pytest.approx((y0 - 300, y0))
    assert "EPSG:32630" in ax.get_xlabel()
    assert ax.xaxis.get_major_formatter()(616000.0, 0) == "616"  # km
    # Width 8 in, height in proportion plus room for the title.
    assert fig.get_size_inches() == pytest.approx((8.0, 8.0 * 300 / 600 + 0.6))
    assert "200 m" in [t.get_text() for t in ax.texts]  # a round fifth of 600 m


def test_class_raster_is_decimated_to_max_size(tmp_path: Path) -> None:
    source = raster(tmp_path / "big.tif", np.ones((100, 300), dtype=np.uint8), nodata=255)
    fig = plot_class_raster(source, [0, 1], ["a", "b"], ["white", "black"], "t", max_size=60)
    assert fig.axes[0].images[0].get_array().shape == (20, 60)


def test_class_raster_draws_districts_reprojected_with_their_names(classes) -> None:
    fig = plot_class_raster(
        classes, [0, 1, 2], ["b", "m", "c"], list(COLOURS.values()), "t", _districts("EPSG:4326")
    )
    ax = fig.axes[0]
    names = {t.get_text(): t.xy for t in ax.texts if t.get_text().startswith("Amansie")}
    assert set(names) == {"Amansie West", "Amansie Central"}
    # Back on the raster's grid (metres), each name inside its own district.
    assert ORIGIN[0] < names["Amansie West"][0] < ORIGIN[0] + 300 < names["Amansie Central"][0]
    assert ax.collections  # the boundaries
    # Without a district column: boundaries, no names.
    unnamed = _districts().drop(columns="district")
    fig = plot_class_raster(classes, [0, 1, 2], ["b", "m", "c"], ["w", "k", "g"], "t", unnamed)
    assert fig.axes[0].collections
    assert not [t for t in fig.axes[0].texts if t.get_text().startswith("Amansie")]


def test_change_map_highlights_the_conversion(tmp_path: Path) -> None:
    scheme = ChangeScheme(
        classes=list(COLOURS),
        colours=COLOURS,
        nodata=255,
        from_class="cocoa",
        to_class="mining",
        conversion_colour="#7b3294",
    )
    data = np.full((30, 60), scheme.code("cocoa", "cocoa"), dtype=np.uint8)
    data[:, 30:] = scheme.code("cocoa", "mining")
    data[:5, :] = 255
    fig = plot_change_map(raster(tmp_path / "change.tif", data, 255), _districts(), scheme, 500)
    ax = fig.axes[0]
    ax.set_facecolor(RED)
    assert ax.get_title() == "Land-use change"
    labels = legend_labels(ax)
    assert len(labels) == 9 and labels[0] == "background (stable)"
    assert labels[7] == "cocoa -> mining"  # code 21, in code order
    # Away from the district names (at the districts' centres).
    assert shown_colour(fig, ax, *map_xy(25, 55)) == pytest.approx(to_rgba("#7b3294"))
    stable = shown_colour(fig, ax, *map_xy(25, 5))
    assert stable != pytest.approx(to_rgba(COLOURS["cocoa"]))  # stable classes pale
    assert stable[1] > to_rgba(COLOURS["cocoa"])[1]
    assert shown_colour(fig, ax, *map_xy(2, 10)) == pytest.approx(RED)  # nodata


def test_mercury_surface_on_a_log_scale_grey_where_not_covered(tmp_path: Path) -> None:
    data = np.geomspace(2.0, 50.0, 60, dtype=np.float32)[None].repeat(30, axis=0)
    data[:, :10] = np.nan
    surface = raster(tmp_path / "hg.tif", data, nodata=np.nan)
    x0, y0 = ORIGIN
    points = gpd.GeoDataFrame(
        geometry=[Point(x0 + 100 + 40 * i, y0 - 150) for i in range(7)], crs="EPSG:32630"
    )
    fig = plot_mercury_surface(surface, points, _districts(), background=1.3)
    ax, colourbar = fig.axes
    assert "ng/m3" in colourbar.get_ylabel()
    norm = ax.images[0].norm
    assert isinstance(norm, LogNorm)
    assert (norm.vmin, norm.vmax) == pytest.approx((np.nanmin(data), 50.0))
    high_background = plot_mercury_surface(surface, points, _districts(), background=20.0)
    assert high_background.axes[0].images[0].norm.vmin == pytest.approx(10.0)  # background / 2
    assert len(ax.collections[0].get_offsets()) == 7
    assert legend_labels(ax) == ["survey points"]
    assert shown_colour(fig, ax, *map_xy(15, 3)) == pytest.approx(to_rgba("#d9d9d9"), abs=0.01)
    low, high = shown_colour(fig, ax, *map_xy(15, 12)), shown_colour(fig, ax, *map_xy(15, 58))
    assert sum(high[:3]) < sum(low[:3])  # magma_r: higher is darker
