"""The interactive map: every layer, pop-ups, legends, nothing fetched from the web, tiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from cocoa_threat.datasets import WebMapDataset
from cocoa_threat.geo.cog import RasterProducer, write_cog
from cocoa_threat.geo.grid import GridSpec, RasterSource, iter_windows
from cocoa_threat.rendering.map_layers import class_layer, continuous_layer, vector_layer
from cocoa_threat.rendering.offline import external_resources
from cocoa_threat.rendering.webmap import build_web_map
from tools.screenshot import OFFLINE_CHROMIUM

UTM = "EPSG:32630"
ORIGIN = (616000.0, 713000.0)


def _raster(path: Path, data: np.ndarray, colours: dict | None = None) -> RasterSource:
    from affine import Affine

    grid = GridSpec.of(
        UTM, Affine(10, 0, *ORIGIN[:1], 0, -10, ORIGIN[1]), data.shape[1], data.shape[0]
    )

    def blocks():  # noqa: ANN202
        for w in iter_windows(grid.width, grid.height, 64):
            yield w, data[w.toslices()][None]

    nodata = 255 if data.dtype == np.uint8 else float("nan")
    write_cog(
        path,
        RasterProducer(grid, 1, data.dtype.name, nodata, blocks, colormap=colours),
        overview_levels=[],
    )
    return RasterSource.open(path)


class _Config(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.config, self._in = None, False

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        self._in = tag == "script" and ("id", "map-config") in attrs

    def handle_data(self, data) -> None:  # noqa: ANN001
        if self._in:
            self.config = json.loads(data)
            self._in = False


def _layers(tmp_path: Path, tile_px: int) -> list:
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 3, (150, 120)).astype(np.uint8)
    classes[:10] = 255
    colours = {
        0: (238, 238, 238, 255),
        1: (215, 48, 31, 255),
        2: (26, 122, 58, 255),
        255: (0, 0, 0, 0),
    }
    land = _raster(tmp_path / "land.tif", classes, colours)
    mercury = np.exp(rng.normal(2, 1, (150, 120))).astype(np.float32)
    mercury[100:] = np.nan  # not covered
    hg = _raster(tmp_path / "hg.tif", mercury)
    x0, y0 = ORIGIN
    districts = gpd.GeoDataFrame(
        {"district": ["A", "B"]},
        geometry=[box(x0, y0 - 1500, x0 + 600, y0), box(x0 + 600, y0 - 1500, x0 + 1200, y0)],
        crs=UTM,
    )
    points = gpd.GeoDataFrame(
        geometry=[Point(x0 + 100, y0 - 100), Point(x0 + 900, y0 - 700)], crs=UTM
    )
    size = {"max_px": 512, "tile_px": tile_px, "opacity": 0.8}
    return [
        class_layer(land, "Land use 2022", {0: "background", 1: "mining", 2: "cocoa"}, **size),
        continuous_layer(hg, "Mercury, mean", "ng/m3", "magma_r", **size),
        vector_layer(points, "Survey", [{"GEM": "1.0"}, {"GEM": "9.0"}], None, {"title": "Survey"}),
        vector_layer(
            districts,
            "Districts",
            [{"district": "A"}, {"district": "B <i>x</i>"}],
            None,
            {"title": "Districts"},
        ),
    ]


def test_the_map_holds_every_layer_and_opens_offline(tmp_path: Path) -> None:
    page = build_web_map("Test map", _layers(tmp_path, tile_px=2048), "map_files")
    assert page.files == {}  # small rasters are inlined
    parser = _Config()
    parser.feed(page.html)
    layers = {c["name"]: c for c in parser.config["layers"]}
    assert list(layers) == ["Land use 2022", "Mercury, mean", "Survey", "Districts"]
    land = layers["Land use 2022"]
    assert land["images"][0]["src"].startswith("data:image/png;base64,")
    (south, west), (north, east) = land["images"][0]["bounds"]
    assert -2.1 < west < east < -1.9 and 6.4 < south < north < 6.5  # lon/lat of the UTM tile
    assert [c[0] for c in land["legend"]["categories"]] == ["background", "mining", "cocoa"]
    assert layers["Mercury, mean"]["legend"]["gradient"]
    popups = [f["properties"]["popup"] for f in layers["Districts"]["geojson"]["features"]]
    assert popups[1] == {"district": "B <i>x</i>"}  # shown with textContent, never as HTML
    assert layers["Survey"]["kind"] == "points"
    assert external_resources(page.html) == []
    addresses = set(re.findall(r"(?i)\b(?:https?|ftp)://[^\s\"'<>)]*", page.html))
    assert addresses <= {"http://www.w3.org/2000/svg"}, addresses
    assert "sourceMappingURL" not in page.html and "leafletjs.com" not in page.html


def test_a_large_scene_is_tiled_beside_the_page(tmp_path: Path) -> None:
    page = build_web_map("Tiled", _layers(tmp_path, tile_px=64), "map_files")
    assert len(page.files) >= 4 and all(f.startswith("map_files/") for f in page.files)
    out = tmp_path / "site" / "map.html"
    dataset = WebMapDataset(str(out))
    dataset.save(page)
    parser = _Config()
    parser.feed(dataset.load())
    for layer in parser.config["layers"]:
        for image in layer.get("images", []):
            assert not image["src"].startswith(("http", "/", "data:"))
            assert (out.parent / image["src"]).is_file(), image["src"]
    assert "Layers:" in dataset.preview()
    # A new save replaces the tiles: none left from the previous map.
    dataset.save(build_web_map("Inline", _layers(tmp_path / "b", tile_px=4096), "map_files"))
    assert not (out.parent / "map_files").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["map.html"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs headless Chromium")
def test_the_map_runs_in_a_browser_with_no_network(tmp_path: Path) -> None:
    page = build_web_map("Browser", _layers(tmp_path, tile_px=2048), "map_files")
    html = tmp_path / "map.html"
    html.write_text(page.html)
    result = subprocess.run(
        [
            "chromium",
            *OFFLINE_CHROMIUM,
            "--virtual-time-budget=5000",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 'data-map-ready="yes"' in result.stdout, result.stderr[-2000:]
    assert 'data-map-layers="Land use 2022|Mercury, mean|Survey|Districts"' in result.stdout
    assert "leaflet-control-layers" in result.stdout and "leaflet-control-scale" in result.stdout


def _rgb(tmp_path: Path) -> RasterSource:
    """A 3-band picture: red rises west to east, green north to south, blue constant;
    the first rows without data."""
    from affine import Affine

    rows, cols = 60, 80
    data = np.empty((3, rows, cols), np.float32)
    data[0] = np.linspace(0, 3000, cols)[None, :]
    data[1] = np.linspace(0, 3000, rows)[:, None]
    data[2] = 500.0
    data[:, :5] = -9999.0
    grid = GridSpec.of(UTM, Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1]), cols, rows)

    def blocks():  # noqa: ANN202
        for w in iter_windows(cols, rows, 64):
            yield w, data[(slice(None), *w.toslices())]

    write_cog(
        tmp_path / "rgb.tif",
        RasterProducer(grid, 3, "float32", -9999.0, blocks, band_names=["RED", "GREEN", "BLUE"]),
        overview_levels=[],
    )
    return RasterSource.open(tmp_path / "rgb.tif")


def test_a_true_colour_layer_is_the_picture_under_the_classes(tmp_path: Path) -> None:
    from cocoa_threat.rendering.map_layers import true_colour_layer

    source = _rgb(tmp_path)
    layer = true_colour_layer(source, "Imagery 2022", ["RED", "GREEN", "BLUE"], (2, 98), 512, 2048)
    assert layer.below and layer.opacity == 1.0 and not layer.visible
    [overlay] = layer.overlays
    rgba = overlay.rgba
    assert (rgba[:3, :, 3] == 0).all()  # no data: transparent
    inside = rgba[10:-3, 3:-3]
    assert (inside[..., 3] == 255).all()
    assert (np.diff(inside[..., 0].astype(int), axis=1) >= 0).all()  # red rises eastwards
    assert (np.diff(inside[..., 1].astype(int), axis=0) >= 0).all()  # green southwards
    red = rgba[..., 0][rgba[..., 3] == 255]
    assert red.min() == 0 and red.max() == 255  # stretched between its percentiles
    with pytest.raises(ValueError, match=r"no band \['NIR'\].*RED"):
        true_colour_layer(source, "x", ["NIR", "GREEN", "BLUE"], (2, 98), 512, 2048)


def test_a_group_of_layers_is_a_switch(tmp_path: Path) -> None:
    layers = _layers(tmp_path, tile_px=2048)
    a, b = layers[0], layers[1]
    a.group = b.group = "year"
    page = build_web_map("Switch", layers, "map_files")
    parser = _Config()
    parser.feed(page.html)
    config = {c["name"]: c for c in parser.config["layers"]}
    assert config["Land use 2022"]["group"] == "year" and config["Districts"]["group"] is None
    assert 'pane: c.below ? "below"' in page.html and "groups[n] === g" in page.html
    if shutil.which("chromium") is None:
        return
    html = tmp_path / "map.html"
    html.write_text(page.html)
    result = subprocess.run(
        ["chromium", *OFFLINE_CHROMIUM, "--virtual-time-budget=5000", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # Both were to be shown; one of a group at a time: the first.
    assert 'data-map-shown="Land use 2022|Survey|Districts"' in result.stdout, result.stderr[-2000:]
