"""`kedro viz build` makes a static site with every registered pipeline."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.project import configure_project

from cocoa_threat.pipeline_registry import register_pipelines
from tests.project.cli import kedro, project_copy


def test_kedro_viz_build(tmp_path: Path) -> None:
    project_copy(tmp_path)
    result = kedro(tmp_path, "viz", "build", timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    built = {p.name for p in (tmp_path / "build" / "api" / "pipelines").iterdir()}
    configure_project("cocoa_threat")
    assert set(register_pipelines()) <= built
    assert (tmp_path / "build" / "index.html").is_file()
