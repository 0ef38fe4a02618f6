"""Seamless windowed inference on rasters of any size, on one process or a Dask cluster.

Each output window of ``window_size`` pixels is predicted from an input window
grown by ``context_margin`` pixels of its neighbours on every side (outside the
raster: nodata), and only its centre is kept, so classes continue across tile
borders. Batches of windows are the unit of work of :func:`cocoa_threat.geo.compute.map_windows`
(in this process or on Dask) and are written one batch at a time, in order
(:class:`~cocoa_threat.geo.cog.RasterProducer`), so memory stays bounded whatever
the raster's size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from rasterio.windows import Window

from cocoa_threat.geo.cog import RasterProducer, SharedPass
from cocoa_threat.geo.compute import ComputeSettings, map_windows
from cocoa_threat.geo.grid import RasterSource, expand, iter_windows
from cocoa_threat.params.inference import InferenceParams
from cocoa_threat.params.land_use import LandUse

if TYPE_CHECKING:
    from cocoa_threat.models.base import SegmentationModel

logger = logging.getLogger(__name__)

Block = tuple[Window, dict[str, np.ndarray]]


class ProbabilityModel(Protocol):
    """What the engine needs of a model (see :class:`~cocoa_threat.models.base.SegmentationModel`)."""

    @property
    def class_names(self) -> list[str]: ...

    def predict_scaled(
        self, raw: np.ndarray, scale: int, crop: int = 0
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class SceneSettings:
    """How to cut, predict and write a raster.

    Attributes:
        band_indexes: 1-based bands of the source fed to the model, in model order.
        image_nodata: Input nodata value.
        window_size: Output window size in pixels.
        context_margin: Pixels of neighbouring context on each side.
        batch_windows: Windows per model call.
        nodata: Class map nodata (uint8).
        probability_scale: uint8 probabilities are ``round(p * scale)``; nodata 255.
        colormap: Colour table of the class map.
        progress: Show a progress bar.
    """

    band_indexes: tuple[int, ...]
    image_nodata: float
    window_size: int = 128
    context_margin: int = 32
    batch_windows: int = 16
    nodata: int = 255
    probability_scale: int = 254
    colormap: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    progress: bool = True


def settings_of(
    p: InferenceParams,
    lu: LandUse,
    source: RasterSource,
    model: SegmentationModel,
    bands: list[int] | None,
) -> SceneSettings:
    """Engine settings from the ``inference`` and ``land_use`` parameters.

    Args:
        p: The ``inference`` parameters (windows, context, nodata).
        lu: The ``land_use`` parameters (map nodata, colours).
        source: The raster to map (its bands are matched to the model's).
        model: The model (its bands and window batch).
        bands: 1-based bands of ``source`` in model order; None: match by description.
    """
    return SceneSettings(
        band_indexes=resolve_band_indexes(source, model.bands, bands),
        image_nodata=p.image_nodata,
        window_size=p.window_size,
        context_margin=p.context_margin,
        batch_windows=model.window_batch(p.window_size + 2 * p.context_margin),
        nodata=lu.nodata,
        colormap=lu.colormap(),
    )


def read_windows(
    source: RasterSource, windows: list[Window], settings: SceneSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The raw windows with their context (float32) and where their centres are valid."""
    m, size = settings.context_margin, settings.window_size
    full = [Window(w.col_off, w.row_off, size, size) for w in windows]
    raw = np.stack(
        [
            source.read(expand(w, m), bands=list(settings.band_indexes), fill=settings.image_nodata)
            for w in full
        ]
    ).astype(np.float32, copy=False)
    centre = raw[:, :, m : m + size, m : m + size]
    valid = np.all(np.isfinite(centre) & (centre != settings.image_nodata), axis=1)
    return raw, valid


def predict_read(
    windows: list[Window],
    read: tuple[np.ndarray, np.ndarray],
    model: ProbabilityModel,
    settings: SceneSettings,
) -> list[Block]:
    """Classes and uint8 probabilities of a batch of windows already read (their centres).

    Args:
        windows: Output windows (at most ``window_size`` each).
        read: The raw windows with context and where their centres are valid
            (:func:`read_windows`).
        model: Gives classes and uint8 probabilities of raw (N, C, H, W) windows.
        settings: Engine settings.

    Returns:
        ``(window, {"classes": (1, h, w) uint8, "probabilities": (classes, h, w)
        uint8})`` per window.
    """
    raw, valid = read
    classes, scaled = model.predict_scaled(raw, settings.probability_scale, settings.context_margin)
    out: list[Block] = []
    for i, w in enumerate(windows):
        h, wd = int(w.height), int(w.width)
        c, p, ok = classes[i, :h, :wd].copy(), scaled[i, :, :h, :wd].copy(), valid[i, :h, :wd]
        c[~ok] = settings.nodata
        p[:, ~ok] = 255
        out.append((w, {"classes": c[None], "probabilities": p}))
    return out


def _batches(windows: list[Window], n: int) -> Iterator[list[Window]]:
    it = iter(windows)
    while batch := list(islice(it, n)):
        yield batch


def produce_class_map(
    source: RasterSource,
    model: ProbabilityModel,
    settings: SceneSettings,
    compute: ComputeSettings | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[RasterProducer, RasterProducer]:
    """A lazy class map of ``source`` and its class probabilities, written by the catalog.

    Both come out of one pass over batches of windows
    (:class:`~cocoa_threat.geo.cog.SharedPass`), which runs when the first of them
    is written: in this process (the next batches read in a background thread), or
    on Dask (``compute``; the model goes to the cluster once), with the same result.

    Args:
        source: Input raster (any size; read by window).
        model: The model.
        settings: Engine settings.
        compute: The ``compute`` parameters (None: this process).
        tags: Metadata written into both GeoTIFFs.

    Returns:
        The class map (uint8, colour table) and the probabilities (uint8, one
        band per class, ``round(p * probability_scale)``, 255 nodata).
    """
    grid = source.grid
    windows = list(iter_windows(grid.width, grid.height, settings.window_size))
    batches = list(_batches(windows, settings.batch_windows))
    names = list(model.class_names)

    def blocks() -> Iterator[Block]:
        for _, out in map_windows(
            partial(predict_read, model=model, settings=settings),
            batches,
            compute,
            load=partial(read_windows, source, settings=settings),
            what="inference batch",
            grid=grid,
            desc="predict batches",
            progress=settings.progress,
        ):
            yield from out

    shared = SharedPass(
        grid, blocks, _outputs(settings, names, tags), window_size=max(settings.window_size, 1024)
    )
    return shared.producer("classes"), shared.producer("probabilities")


def _outputs(
    settings: SceneSettings, names: list[str], tags: dict[str, str] | None
) -> dict[str, dict[str, Any]]:
    """The two GeoTIFFs of :func:`produce_class_map`: the classes and their probabilities."""
    common = {**(tags or {}), **{f"class_{i}": n for i, n in enumerate(names)}}
    return {
        "classes": {
            "count": 1,
            "dtype": "uint8",
            "nodata": settings.nodata,
            "band_names": ["class"],
            "colormap": settings.colormap or None,
            "tags": common,
        },
        "probabilities": {
            "count": len(names),
            "dtype": "uint8",
            "nodata": 255,
            "band_names": [f"p_{n}" for n in names],
            "tags": {**common, "scale": f"probability x {settings.probability_scale}"},
        },
    }


def model_tags(model: SegmentationModel, info: dict[str, Any]) -> dict[str, str]:
    """The GeoTIFF tags that name a map's model: its version, training split and name.

    Args:
        model: The model.
        info: Its record (``chosen_model_info``: ``version``, ``split_hash`` ...).
    """
    return {
        "model_version": str(info.get("version")),
        "split_hash": str(info.get("split_hash")),
        "model": model.name,
    }


def year_class_map(
    load: Callable[[], RasterSource],
    year: int,
    model: SegmentationModel,
    inference: InferenceParams,
    land_use: LandUse,
    compute: ComputeSettings | None,
    tags: dict[str, str],
) -> Callable[[], RasterProducer]:
    """A function returning the lazy class map of one year's raster (``load()``).

    Nothing is read before it is called; the map carries ``tags`` and the year
    (its probabilities are not kept).

    Args:
        load: Returns the year's raster (e.g. a composite); bands matched by description.
        year: The year (a ``year`` tag).
        model: The model.
        inference: The ``inference`` parameters (windows, context, nodata).
        land_use: The ``land_use`` parameters (map nodata, colours).
        compute: The ``compute`` parameters (None: this process).
        tags: Metadata written into the GeoTIFF (e.g. :func:`model_tags`).
    """

    def make() -> RasterProducer:
        source = load()
        settings = settings_of(inference, land_use, source, model, None)
        logger.info("Mapping %d from %s", year, source.path)
        produced, _ = produce_class_map(source, model, settings, compute, tags)
        produced.tags.update({"year": str(year)})
        return produced

    return make


def resolve_band_indexes(
    source: RasterSource, model_bands: list[str], override: list[int] | None = None
) -> tuple[int, ...]:
    """Which source bands (1-based) feed the model.

    Uses ``override`` if given; else matches the source's band descriptions to
    the model's band names; else, if the counts agree, takes the bands in order.

    Raises:
        ValueError: If the bands can't be matched.
    """
    if override:
        if max(override) > source.count or min(override) < 1:
            raise ValueError(
                f"band indexes {override} are outside 1..{source.count} of {source.path}"
            )
        return tuple(override)
    names = list(source.band_names)
    if all(b in names for b in model_bands):
        return tuple(names.index(b) + 1 for b in model_bands)
    if source.count == len(model_bands):
        return tuple(range(1, source.count + 1))
    raise ValueError(
        f"{source.path} has bands {names} but the model needs {model_bands}; set "
        f"inference.scene.band_indexes to the 1-based bands in that order"
    )
