"""Seamless windowed inference on rasters of any size, on one process or a Dask cluster.

Each output window of ``window_size`` pixels is predicted from an input window
grown by ``context_margin`` pixels of its neighbours on every side (outside the
raster: nodata), and only its centre is kept, so classes continue across tile
borders. Windows are read, predicted in batches and written one batch at a time
(:class:`~cocoa_threat.geo.cog.RasterProducer`), so memory stays bounded
whatever the raster's size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import numpy as np
from rasterio.windows import Window
from tqdm.auto import tqdm

from cocoa_threat.geo.cog import RasterProducer, SharedPass
from cocoa_threat.geo.grid import RasterSource, expand, iter_windows

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
    raw: np.ndarray,
    valid: np.ndarray,
    windows: list[Window],
    model: ProbabilityModel,
    settings: SceneSettings,
) -> list[Block]:
    """Classes and uint8 probabilities of windows already read (only their centres)."""
    classes, scaled = model.predict_scaled(raw, settings.probability_scale, settings.context_margin)
    out: list[Block] = []
    for i, w in enumerate(windows):
        h, wd = int(w.height), int(w.width)
        c, p, ok = classes[i, :h, :wd].copy(), scaled[i, :, :h, :wd].copy(), valid[i, :h, :wd]
        c[~ok] = settings.nodata
        p[:, ~ok] = 255
        out.append((w, {"classes": c[None], "probabilities": p}))
    return out


def predict_windows(
    source: RasterSource,
    windows: list[Window],
    model: ProbabilityModel,
    settings: SceneSettings,
) -> list[Block]:
    """Predict a batch of windows of ``source`` with context; keep only their centres.

    Args:
        source: The input raster.
        windows: Output windows (at most ``window_size`` each).
        model: Gives classes and uint8 probabilities of raw (N, C, H, W) windows.
        settings: Engine settings.

    Returns:
        ``(window, {"classes": (1, h, w) uint8, "probabilities": (classes, h, w)
        uint8})`` per window.
    """
    raw, valid = read_windows(source, windows, settings)
    return predict_read(raw, valid, windows, model, settings)


def _local_blocks(
    source: RasterSource,
    batches: list[list[Window]],
    model: ProbabilityModel,
    settings: SceneSettings,
    read_ahead: int = 2,
) -> Iterator[Block]:
    """Predict batches in this process while a background thread reads the next ones."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-windows") as reader:
        pending = [reader.submit(read_windows, source, b, settings) for b in batches[:read_ahead]]
        for i, batch in enumerate(batches):
            raw, valid = pending.pop(0).result()
            if i + read_ahead < len(batches):
                pending.append(
                    reader.submit(read_windows, source, batches[i + read_ahead], settings)
                )
            yield from predict_read(raw, valid, batch, model, settings)


def _batches(windows: list[Window], n: int) -> Iterator[list[Window]]:
    it = iter(windows)
    while batch := list(islice(it, n)):
        yield batch


def _dask_blocks(
    client: Any,
    source: RasterSource,
    batches: list[list[Window]],
    model: ProbabilityModel,
    settings: SceneSettings,
    max_in_flight: int,
) -> Iterator[Block]:
    """Run batches on a Dask cluster, a bounded number at a time; yield as they finish."""
    from distributed import as_completed

    [model_future] = client.scatter([model], broadcast=True)
    pending = iter(batches)
    futures = as_completed(
        [
            client.submit(predict_windows, source, b, model_future, settings, pure=False)
            for b in islice(pending, max_in_flight)
        ]
    )
    for future in futures:
        yield from future.result()
        nxt = next(pending, None)
        if nxt is not None:
            futures.add(
                client.submit(predict_windows, source, nxt, model_future, settings, pure=False)
            )
        future.release()


def produce_class_map(
    source: RasterSource,
    model: ProbabilityModel,
    settings: SceneSettings,
    client_factory: Callable[[], AbstractContextManager[Any]] | None = None,
    max_in_flight: int = 8,
    tags: dict[str, str] | None = None,
) -> tuple[RasterProducer, RasterProducer]:
    """A lazy class map of ``source`` and its class probabilities, written by the catalog.

    Both come out of one pass over the windows (:class:`~cocoa_threat.geo.cog.SharedPass`),
    which runs when the first of them is written.

    Args:
        source: Input raster (any size; read by window).
        model: The model.
        settings: Engine settings.
        client_factory: Returns a context manager yielding a
            ``distributed.Client`` (entered when the map is written) to process
            windows on a Dask cluster; None for this process. Both give the same
            result.
        max_in_flight: Batches submitted to the cluster at once (bounds memory).
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
        bar = tqdm(
            total=len(windows), desc="predict windows", unit="win", disable=not settings.progress
        )
        with client_factory() if client_factory else nullcontext() as client:
            if client is None:
                stream: Iterator[Block] = _local_blocks(source, batches, model, settings)
            else:
                stream = _dask_blocks(client, source, batches, model, settings, max_in_flight)
            for block in stream:
                bar.update(1)
                yield block
        bar.close()

    common = {**(tags or {}), **{f"class_{i}": n for i, n in enumerate(names)}}
    shared = SharedPass(
        grid,
        blocks,
        {
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
        },
        window_size=max(settings.window_size, 1024),
    )
    return shared.producer("classes"), shared.producer("probabilities")


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
