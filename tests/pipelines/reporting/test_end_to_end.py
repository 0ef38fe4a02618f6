"""The whole default run on the tiny region, ending in the report."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from kedro.framework.project import configure_project
from kedro.runner import SequentialRunner

from cocoa_threat.pipeline_registry import register_pipelines
from cocoa_threat.rendering.offline import external_resources
from tests.conftest import ProjectConf
from tests.pipelines.shared import shrink_models
from tests.regression.digest import check_or_update, run_digest

GOLDEN_TABLES = [
    "05_model_input/tile_manifest.csv",
    "03_primary/tile_splits.csv",
    "03_primary/tile_areas.csv",
    "08_reporting/model_comparison.csv",
    "08_reporting/transition_matrix.csv",
    "08_reporting/transition_by_district.csv",
    "08_reporting/area_estimates.csv",
    "08_reporting/economic_loss_by_season.csv",
    "08_reporting/economic_summary.csv",
    "08_reporting/mercury_interpolation_cv.csv",
    "08_reporting/mercury_exposure_by_district.csv",
    "08_reporting/risk_by_district.csv",
    "08_reporting/risk_sensitivity.csv",
]
GOLDEN_RASTERS = [
    "07_model_output/land_use_before.tif",
    "07_model_output/land_use_after.tif",
    "07_model_output/change_before_after.tif",
    "07_model_output/mercury_surface.tif",
    "07_model_output/risk_map.tif",
]

SECTIONS = [
    "Study area and data",
    "Models",
    "Land use and change",
    "Economics",
    "Atmospheric mercury",
    "Cocoa risk",
    "Parameters",
]


def test_default_run_ends_in_a_self_contained_report(project_conf: ProjectConf) -> None:
    shrink_models(project_conf.params)
    configure_project("cocoa_threat")
    SequentialRunner().run(register_pipelines()["__default__"], project_conf.catalog_with_params())

    report = Path(project_conf.root, "data/08_reporting/report.html").read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in report, section
    assert "SYNTHETIC demo region" in report
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', report)
    assert len(images) == 13  # sample patches, 3 confusion matrices, 3 maps, 6 charts and maps
    for data in images:  # every figure is a real PNG, embedded (opens offline)
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert external_resources(report) == []  # opens offline: nothing fetched from elsewhere
    markdown = Path(project_conf.root, "data/08_reporting/report.md").read_text()
    assert all(f"## {s}" in markdown for s in SECTIONS)
    # Every area says where it comes from: the test sample's, and the reference-sample kit's
    # (the demo labels its sample from its own tile labels).
    assert "error-adjusted (test sample of" in markdown
    assert "error-adjusted (reference sample of" in markdown
    assert Path(project_conf.root, "data/08_reporting/reference_sample.gpkg").is_file()
    # The map's district pop-ups say which figure is adjusted and which is the map's.
    web_map = Path(project_conf.root, "data/08_reporting/map.html").read_text()
    assert "cocoa lost, ha, error-adjusted by the test-block sample" in web_map
    assert "cocoa lost, ha, map area (not adjusted)" in web_map

    # The results themselves are those recorded before the last restructuring
    # (tests/regression/golden_tiny_region.json): a refactoring must not change them.
    digest = run_digest(Path(project_conf.root, "data"), GOLDEN_TABLES, GOLDEN_RASTERS)
    differences = check_or_update(digest, os.environ.get("COCOA_UPDATE_GOLDEN") == "1")
    assert not differences, "\n".join(differences[:20])
