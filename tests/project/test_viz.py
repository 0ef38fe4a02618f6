"""`kedro viz build` makes a static site with every registered pipeline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kedro.framework.project import configure_project

from cocoa_threat.pipeline_registry import register_pipelines
from tests.conftest import REPO


def test_kedro_viz_build(tmp_path: Path) -> None:
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    shutil.copytree(REPO / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    subprocess.run(
        [str(kedro), "viz", "build"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    built = {p.name for p in (tmp_path / "build" / "api" / "pipelines").iterdir()}
    configure_project("cocoa_threat")
    assert set(register_pipelines()) <= built
    assert (tmp_path / "build" / "index.html").is_file()
