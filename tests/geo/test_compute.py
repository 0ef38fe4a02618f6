"""The window engine: ordered, bounded, equal on Dask, and clear about what failed."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from rasterio.windows import Window

from cocoa_threat.errors import ParameterError
from cocoa_threat.geo.cog import RasterProducer, write_cog
from cocoa_threat.geo.compute import (
    WindowError,
    dask_client,
    describe,
    map_windows,
    sum_windows,
)
from cocoa_threat.geo.grid import GridSpec, iter_windows
from cocoa_threat.params.compute import ComputeParams

GRID = GridSpec.of("EPSG:32630", Affine(10, 0, 600000, 0, -10, 700000), 100, 70)
WINDOWS = list(iter_windows(GRID.width, GRID.height, 32))


def pattern(window: Window, seed: int = 0) -> np.ndarray:
    """A window's values, a pure function of where it is."""
    rng = np.random.default_rng([seed, int(window.row_off), int(window.col_off)])
    return rng.integers(0, 5, (int(window.height), int(window.width))).astype(np.uint8)


def counts(window: Window) -> tuple[np.ndarray]:
    return (np.bincount(pattern(window).ravel(), minlength=5).astype(np.int64),)


def failing(window: Window, bad_row: int) -> np.ndarray:
    if window.row_off == bad_row and window.col_off == 32:
        raise ValueError("no elevation here")
    return pattern(window)


def slow(window: Window) -> np.ndarray:
    time.sleep(0.15)
    return pattern(window)


def killer(window: Window) -> np.ndarray:
    if window.row_off == 32 and window.col_off == 64:
        os._exit(1)  # the worker process dies (as if killed for memory)
    return pattern(window)


def test_results_come_in_window_order_and_equal_on_dask(dask_compute: Any) -> None:
    here = list(map_windows(pattern, WINDOWS))
    assert [w for w, _ in here] == WINDOWS
    there = list(map_windows(pattern, WINDOWS, dask_compute))
    assert [w for w, _ in there] == WINDOWS
    for (_, a), (_, b) in zip(here, there, strict=True):
        np.testing.assert_array_equal(a, b)
    with_loader = list(map_windows(lambda w, data: data * 2, WINDOWS, load=pattern))
    assert all(np.array_equal(r, 2 * pattern(w)) for w, r in with_loader)
    total = sum_windows(counts, WINDOWS, (np.zeros(5, np.int64),), dask_compute)
    assert total[0].sum() == GRID.width * GRID.height
    np.testing.assert_array_equal(total[0], sum(counts(w)[0] for w in WINDOWS))


def started(window: Window) -> float:
    start = time.time()
    time.sleep(0.1)
    return start


def test_at_most_max_in_flight_windows_on_the_cluster(dask_compute: Any) -> None:
    m = dask_compute.dask.max_in_flight
    starts, taken = [], []
    for _, start in map_windows(started, WINDOWS[:9], dask_compute):
        starts.append(start)
        taken.append(time.time())
    # Window i + m is sent only once window i is taken: never more than m out at once.
    assert all(starts[i + m] >= taken[i] for i in range(len(starts) - m))
    # ... but several run at once: the workers are kept busy.
    assert any(starts[i + 1] < taken[i] for i in range(len(starts) - 1))


@pytest.mark.parametrize("on_dask", [False, True])
def test_a_failing_window_is_named(on_dask: bool, request: pytest.FixtureRequest) -> None:
    compute = request.getfixturevalue("dask_compute") if on_dask else None
    work = partial(failing, bad_row=32)
    with pytest.raises(WindowError) as info:
        list(map_windows(work, WINDOWS, compute, what="risk factors window", grid=GRID))
    message = str(info.value)
    assert "risk factors window at rows 32-64, cols 32-64" in message
    assert "x 600320.0 to 600640.0, y 699360.0 to 699680.0" in message
    assert "ValueError: no elevation here" in message


def test_describe_batches() -> None:
    batch = [Window(0, 0, 32, 32), Window(32, 0, 32, 32)]
    assert describe(batch) == "rows 0-32, cols 0-64"


def test_a_killed_worker_is_retried(dask_compute: Any) -> None:
    client = dask_client(ComputeParams.model_validate(dask_compute).dask)
    expected = [pattern(w) for w in WINDOWS]
    got = []
    for i, (_, result) in enumerate(map_windows(slow, WINDOWS, dask_compute)):
        if i == 1:  # kill a worker while windows are running on it
            pids = client.run(os.getpid)
            os.kill(next(iter(pids.values())), 9)
        got.append(result)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def _producer(work: Any, compute: Any) -> RasterProducer:
    def blocks() -> Any:
        for window, array in map_windows(work, WINDOWS, compute, grid=GRID):
            yield window, array[None]

    return RasterProducer(grid=GRID, count=1, dtype="uint8", nodata=255, blocks=blocks)


def test_a_window_that_keeps_killing_workers_stops_the_run_without_a_cog(
    tmp_path: Path,
) -> None:
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
    ):
        address = cluster.scheduler_address  # one window at a time: the culprit is named
        compute = ComputeParams.model_validate(
            {"dask": {"enabled": True, "scheduler_address": address, "max_in_flight": 1}}
        )
        with pytest.raises(WindowError, match=r"rows 32-64, cols 64-96.*a Dask worker that died"):
            write_cog(tmp_path / "out.tif", _producer(killer, compute), overview_levels=[])
    assert list(tmp_path.iterdir()) == []  # no COG, no partial work folder


def test_compute_parameters_are_checked() -> None:
    assert ComputeParams.model_validate({}).dask.enabled is False
    with pytest.raises(ParameterError, match=r"compute.dask.max_in_flight"):
        ComputeParams.model_validate({"dask": {"max_in_flight": 0}})
    with pytest.raises(ParameterError, match=r"compute.dask.scheduler_address: .*tcp://"):
        ComputeParams.model_validate({"dask": {"scheduler_address": "scheduler:8786"}})
    with pytest.raises(ParameterError, match=r"compute.dask.workers"):
        ComputeParams.model_validate({"dask": {"workers": 2}})
    with pytest.raises(TypeError, match="ComputeParams"):  # never an unchecked dict
        list(map_windows(pattern, WINDOWS, {"dask": {"enabled": True}}))


def test_counts_are_summed_as_int64_only() -> None:
    def as_float(window: Window) -> tuple[np.ndarray]:
        return (counts(window)[0].astype(np.float64),)

    with pytest.raises(TypeError):  # no float accumulation over windows
        sum_windows(as_float, WINDOWS, (np.zeros(5, np.int64),))
