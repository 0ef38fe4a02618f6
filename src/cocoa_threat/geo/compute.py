"""Windowed work in this process or on a Dask cluster: one pure function mapped over windows.

Every stage that processes rasters window by window (inference, transition, zonal
tables, risk, mercury exposure) describes the work of one window as a *pure*,
picklable function of the window (it reads its inputs, with whatever halo it
needs, from files every worker can see) and hands it to :func:`map_windows`:

* ``compute.dask.enabled: false``: the windows run here, one after the other (a
  background thread reads the next window while this one is computed);
* ``compute.dask.enabled: true``: they run on a ``dask.distributed`` cluster (a
  ``LocalCluster`` started here, or an existing scheduler), at most
  ``compute.dask.max_in_flight`` at a time.

Either way the results come back **in window order**, so the Kedro process writes
COGs (:func:`~cocoa_threat.geo.cog.write_cog`) and sums tables exactly as the
single-process path does: results are the same bit for bit. A window that fails
raises :class:`WindowError` naming its bounds; a worker that dies is retried by
Dask (``distributed.scheduler.allowed-failures``), and when a window keeps killing
workers the run stops with a :class:`WindowError` (no output is half written: the
writers only move a file into place once complete).
"""

from __future__ import annotations

import atexit
import logging
import traceback
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import numpy as np
from rasterio.windows import Window
from tqdm.auto import tqdm

from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import GridSpec, iter_windows, window_transform

logger = logging.getLogger(__name__)

READ_AHEAD = 2  # windows read ahead by the background thread (single-process path)


class DaskSettings(Protocol):
    """``compute.dask`` (validated by :mod:`cocoa_threat.params.compute`)."""

    enabled: bool
    scheduler_address: str | None
    n_workers: int
    threads_per_worker: int
    max_in_flight: int


class ComputeSettings(Protocol):
    """``compute``: where windows run (:class:`cocoa_threat.params.compute.ComputeParams`)."""

    dask: DaskSettings


def _dask_of(compute: ComputeSettings | None) -> DaskSettings | None:
    """The Dask settings if windows go to Dask, else None (this process)."""
    if compute is None:
        return None
    if not hasattr(compute, "dask"):
        raise TypeError(
            f"compute must be validated settings (cocoa_threat.params.compute.ComputeParams), "
            f"not {type(compute).__name__}"
        )
    return compute.dask if compute.dask.enabled else None


class WindowError(RuntimeError):
    """A window's work failed; the message names the window's pixel and map bounds."""


def describe(item: Any, grid: GridSpec | None = None) -> str:
    """Rows, columns (and map bounds, with ``grid``) of a window or a list of windows."""
    windows = item if isinstance(item, list | tuple) else [item]
    if not windows or not all(isinstance(w, Window) for w in windows):
        return repr(item)
    r0 = min(int(w.row_off) for w in windows)
    c0 = min(int(w.col_off) for w in windows)
    r1 = max(int(w.row_off + w.height) for w in windows)
    c1 = max(int(w.col_off + w.width) for w in windows)
    text = f"rows {r0}-{r1}, cols {c0}-{c1}"
    if grid is not None:
        whole = Window(c0, r0, c1 - c0, r1 - r0)
        x0, y1 = window_transform(grid, whole) * (0, 0)
        x1, y0 = window_transform(grid, whole) * (c1 - c0, r1 - r0)
        text += (
            f" (x {min(x0, x1):.1f} to {max(x0, x1):.1f}, "
            f"y {min(y0, y1):.1f} to {max(y0, y1):.1f}, {grid.crs})"
        )
    return text


@dataclass(frozen=True)
class WindowTask:
    """The work of one window: ``work(item)``, or ``work(item, load(item))`` with a loader.

    Attributes:
        work: Pure function of the window (and what ``load`` read).
        load: Optional reader, run ahead in a thread on the single-process path.
        what: What a window of this stage is, for error messages.
        grid: The raster grid, for the map bounds in error messages.
    """

    work: Callable[..., Any]
    load: Callable[[Any], Any] | None = None
    what: str = "window"
    grid: GridSpec | None = None

    def fail(self, item: Any, exc: BaseException) -> WindowError:
        """The error naming the window (with the original error's type and message)."""
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return WindowError(f"{self.what} at {describe(item, self.grid)} failed: {detail}")

    def read(self, item: Any) -> Any:
        """Run the loader (errors name the window)."""
        try:
            return self.load(item) if self.load is not None else None
        except Exception as exc:
            raise self.fail(item, exc) from exc

    def compute(self, item: Any, data: Any) -> Any:
        """Run the work on what was read (errors name the window)."""
        try:
            return self.work(item, data) if self.load is not None else self.work(item)
        except Exception as exc:
            raise self.fail(item, exc) from exc

    def __call__(self, item: Any) -> Any:
        """Read and compute one window (what a Dask task runs)."""
        return self.compute(item, self.read(item))


def map_windows(
    work: Callable[..., Any],
    items: Iterable[Any],
    compute: ComputeSettings | None = None,
    *,
    load: Callable[[Any], Any] | None = None,
    what: str = "window",
    grid: GridSpec | None = None,
    desc: str | None = None,
    progress: bool = True,
) -> Iterator[tuple[Any, Any]]:
    """Run ``work`` on every window, here or on Dask; yield ``(window, result)`` in order.

    Args:
        work: A pure, picklable function (a module-level function or a
            ``functools.partial`` of one): ``work(window)``, or
            ``work(window, load(window))`` when ``load`` is given.
        items: The windows (or batches of windows), in the order results are wanted.
        compute: The validated ``compute`` parameters (None: this process).
        load: Optional reader of a window's inputs (run ahead in a thread here;
            in the same task on Dask).
        what: What a window is, for error messages (e.g. ``risk factors window``).
        grid: The raster grid, for map bounds in error messages.
        desc: Progress-bar label (default: ``what``).
        progress: Show a progress bar (on a terminal).

    Yields:
        ``(window, result)`` for every item, in the order of ``items``.

    Raises:
        WindowError: Naming the window whose work failed (or kept killing workers).
    """
    task = WindowTask(work, load, what, grid)
    todo = list(items)
    spec = _dask_of(compute)
    stream = _on_dask(task, todo, spec) if spec is not None else _in_process(task, todo)
    with tqdm(
        total=len(todo), desc=desc or what, unit="win", disable=None if progress else True
    ) as bar:
        for item, result in stream:
            bar.update(1)
            yield item, result


def sum_windows(
    work: Callable[..., Any],
    items: Iterable[Any],
    zero: tuple[np.ndarray, ...],
    compute: ComputeSettings | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, ...]:
    """The sum of every window's result (a tuple of arrays shaped like ``zero``), in order.

    Counts are int64 and summed in window order on both paths, so totals are exact and
    the same on one process and on a cluster.
    """
    total = tuple(np.array(z, copy=True) for z in zero)
    for _, result in map_windows(work, items, compute, **kwargs):
        for i, part in enumerate(result):
            np.add(total[i], part, out=total[i], casting="no")
    return total


def window_producer(
    work: Callable[[Window], np.ndarray],
    grid: GridSpec,
    block: int,
    compute: ComputeSettings | None,
    *,
    what: str,
    **raster: Any,
) -> RasterProducer:
    """A raster whose windows of ``block`` pixels are ``work(window)`` ((bands, rows, cols)).

    The catalog writes it window by window in order (:func:`~cocoa_threat.geo.cog.write_cog`)
    while the windows run here or on Dask.

    Args:
        work: Pure, picklable function of a window.
        grid: The output grid.
        block: Window size (px).
        compute: The ``compute`` parameters.
        what: What a window is, for errors and the progress bar.
        **raster: ``count``, ``dtype``, ``nodata`` and the other fields of
            :class:`~cocoa_threat.geo.cog.RasterProducer`.
    """

    def blocks() -> Iterator[tuple[Window, np.ndarray]]:
        windows = iter_windows(grid.width, grid.height, block)
        yield from map_windows(work, windows, compute, what=what, grid=grid)

    return RasterProducer(grid=grid, blocks=blocks, **raster)


def _in_process(task: WindowTask, items: list[Any]) -> Iterator[tuple[Any, Any]]:
    """The windows one by one; with a loader, the next ones are read in a background thread."""
    if task.load is None:
        for item in items:
            yield item, task.compute(item, None)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-window") as reader:
        ahead: deque[Future[Any]] = deque(reader.submit(task.read, i) for i in items[:READ_AHEAD])
        for i, item in enumerate(items):
            data = ahead.popleft().result()
            if i + READ_AHEAD < len(items):
                ahead.append(reader.submit(task.read, items[i + READ_AHEAD]))
            yield item, task.compute(item, data)


def _identity(task: WindowTask) -> WindowTask:
    return task


def _run(task: WindowTask, item: Any) -> Any:
    """One Dask task (module level, so it pickles by reference)."""
    return task(item)


def _on_dask(task: WindowTask, items: list[Any], spec: DaskSettings) -> Iterator[tuple[Any, Any]]:
    """At most ``max_in_flight`` windows on the cluster; results taken in window order."""
    from distributed import KilledWorker

    client = dask_client(spec)
    stage = "_".join(task.what.split()) or "window"  # task names: per stage on the dashboard
    with warnings.catch_warnings():  # a model is large; it goes to the cluster once
        warnings.filterwarnings("ignore", message="Large object", category=UserWarning)
        # A task, not scattered data: were every worker holding it to die, Dask rebuilds it.
        shared = client.submit(_identity, task, key=f"{stage}_function-{uuid.uuid4().hex}")
    todo = iter(items)
    pending: deque[tuple[Any, Any]] = deque()

    def submit(item: Any) -> None:
        key = f"{stage}-{uuid.uuid4().hex}"
        pending.append((item, client.submit(_run, shared, item, key=key)))

    try:
        for item in islice(todo, spec.max_in_flight):
            submit(item)
        while pending:
            item, future = pending.popleft()
            try:
                result = future.result()
            except KilledWorker as exc:
                raise WindowError(
                    f"{task.what} at {describe(item, task.grid)} was running on a Dask worker "
                    f"that died, {dask_allowed_failures() + 1} time(s) (out of memory? give the "
                    f"workers more memory, or lower the stage's block_size or "
                    f"compute.dask.max_in_flight): {exc}"
                ) from exc
            future.release()
            if (nxt := next(todo, None)) is not None:
                submit(nxt)
            yield item, result
    finally:
        for _, future in pending:
            future.cancel()
        shared.release()


def dask_allowed_failures() -> int:
    """How many times Dask retries a window whose worker died."""
    import dask

    return int(dask.config.get("distributed.scheduler.allowed-failures"))


# --------------------------------------------------------------------------- #
# Clients: one per settings, kept for the whole run (closed at exit)
# --------------------------------------------------------------------------- #
_CLIENTS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def dask_client(spec: DaskSettings) -> Any:
    """The ``distributed.Client`` of these settings (started once, reused by every stage)."""
    key = (spec.scheduler_address, spec.n_workers, spec.threads_per_worker)
    if key in _CLIENTS and _CLIENTS[key][1].status == "running":
        return _CLIENTS[key][1]
    from distributed import Client

    if spec.scheduler_address:
        cluster, client = None, Client(spec.scheduler_address)
        logger.info("Dask: connected to %s", spec.scheduler_address)
    else:
        cluster = _local_cluster(spec)
        client = Client(cluster)
        logger.info(
            "Dask: LocalCluster of %d workers x %d threads at %s",
            spec.n_workers,
            spec.threads_per_worker,
            cluster.scheduler_address,
        )
    _CLIENTS[key] = (cluster, client)
    return client


def _local_cluster(spec: DaskSettings) -> Any:
    """A LocalCluster of worker processes, glibc left to size its own heap.

    Dask sets ``MALLOC_TRIM_THRESHOLD_`` in its workers to hand freed memory back to
    the system at once; with the large temporary arrays of a window that turns every
    allocation into fresh pages (measured: 1.6x the CPU time of the same windows in
    one process). Memory stays bounded by the windows in flight either way.
    """
    import dask
    from distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=spec.n_workers,
            threads_per_worker=spec.threads_per_worker,
            processes=True,
            dashboard_address=":0",
        )


def close_clients() -> None:
    """Close every client (and LocalCluster) this process started."""
    while _CLIENTS:
        _, (cluster, client) = _CLIENTS.popitem()
        client.close()
        if cluster is not None:
            cluster.close()


atexit.register(close_clients)
