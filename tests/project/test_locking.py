"""One run at a time writes under data/: a second one stops at once, naming the first."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from cocoa_threat.hooks import ProjectLockHook
from cocoa_threat.locking import ProjectBusyError, ProjectLock
from tests.project.cli import kedro, project_copy


def test_a_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    first, second = ProjectLock(tmp_path / ".lock"), ProjectLock(tmp_path / ".lock")
    first.acquire("pipeline ingestion")
    with pytest.raises(ProjectBusyError, match=rf"pid {os.getpid()}, pipeline ingestion, since"):
        second.acquire("pipeline training")
    first.release()
    second.acquire("pipeline training")
    assert second.held
    second.release()


def test_a_waiting_run_goes_on_when_the_first_ends(tmp_path: Path) -> None:
    first = ProjectLock(tmp_path / ".lock")
    first.acquire("first")
    threading.Timer(0.5, first.release).start()
    second = ProjectLock(tmp_path / ".lock", wait_s=10)
    t0 = time.monotonic()
    second.acquire("second")
    assert second.held and 0.3 < time.monotonic() - t0 < 10
    second.release()


def test_the_hook_gives_the_lock_back_after_a_failed_run(tmp_path: Path) -> None:
    hook = ProjectLockHook()
    # The keys of Kedro 1.x's run_params (session.run's record_data).
    params = {
        "project_path": tmp_path,
        "run_id": "2026-12-02T07.00.00.000Z",
        "pipeline_names": ["risk"],
        "namespaces": ["after"],
        "env": "smallminesds",
    }
    hook.before_pipeline_run(params, None, None)  # type: ignore[arg-type]
    with pytest.raises(
        ProjectBusyError,
        match=r"kedro run --pipeline=risk --namespaces=after --env=smallminesds "
        r"\(run 2026-12-02T07\.00\.00\.000Z\)",
    ):
        ProjectLock(tmp_path / "data" / ".lock").acquire("other")
    hook.on_pipeline_error(RuntimeError("boom"), params, None, None)  # type: ignore[arg-type]
    other = ProjectLock(tmp_path / "data" / ".lock")
    other.acquire("other")
    other.release()


def test_a_concurrent_kedro_run_stops_before_writing_anything(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    lock = ProjectLock(root / "data" / ".lock")
    lock.acquire("pipeline __default__, session held-by-the-test")
    try:
        result = kedro(root, "run", "--pipeline=ingestion")
    finally:
        lock.release()
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "Another kedro run is writing in" in output and "held-by-the-test" in output
    assert not (root / "data" / "01_raw").exists()


def test_leftovers_of_killed_runs_are_swept_and_a_moved_raw_input_put_back(
    tmp_path: Path,
) -> None:
    from cocoa_threat.locking import sweep_partials

    data = tmp_path / "data"
    (data / "07_model_output" / ".land_use_2016.partial-x1y2").mkdir(parents=True)
    (data / "07_model_output" / ".land_use_2016.partial-x1y2" / "work.tif").write_bytes(b"half")
    (data / "07_model_output" / ".shared-pass.partial-abc").mkdir()
    (data / "06_models" / "lightning").mkdir(parents=True)
    (data / "06_models" / "lightning" / ".epoch-003.ckpt.partial").write_bytes(b"half")
    raw = data / "01_raw" / "demo"
    (raw / ".tiles.0123456789ab.partial-old" / "2016").mkdir(parents=True)
    (raw / ".tiles.0123456789ab.partial-old" / "2016" / "t.tif").write_bytes(b"the only copy")
    (raw / "districts.gpkg").write_bytes(b"kept")
    (raw / ".districts.gpkg.stamp.json").write_text("{}")

    hook = ProjectLockHook()
    hook.before_pipeline_run({"project_path": tmp_path}, None, None)  # type: ignore[arg-type]
    hook.after_pipeline_run({"project_path": tmp_path}, None, None)  # type: ignore[arg-type]
    left = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())
    assert left == [
        ".lock",
        "01_raw/demo/.districts.gpkg.stamp.json",
        "01_raw/demo/districts.gpkg",
        "01_raw/demo/tiles/2016/t.tif",
    ]
    assert sweep_partials(data) == []
