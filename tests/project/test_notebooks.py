"""The notebooks of notebooks/: committed without outputs, and they run on a demo run.

The demo runs once (a small copy of the project, its sizes in conf/local so that the
notebooks' Kedro session reads the parameters the run used), then each notebook is
executed headless with its kernel in the copy's notebooks/ folder, as Jupyter opens it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import REPO
from tests.project.cli import kedro, project_copy
from tools.notebooks import execute, notebook_paths, strip, unstripped

NOTEBOOKS = notebook_paths(REPO / "notebooks")
KIT_TAG = "reference-sample-kit"
SKIPPED = "skipped: this project has no reference-sample kit"

# The demo in seconds: the sizes of tests/project/test_mlflow.py's WHOLE_CHAIN, as a
# conf/local parameters file (read by the run and by the notebooks' session alike).
SMALL_DEMO: dict = {
    "demo": {"n_tiles_x": 4, "n_tiles_y": 4, "tile_size": 32, "edge_trim_x": 10, "edge_trim_y": 13},
    "ingestion": {
        "raster": {"tile_size": 32},
        "split": {"block_size": 1, "strata": {"n_strata": 1}},
    },
    "random_forest": {"model": {"n_estimators": 10, "pixels_per_class": 500}},
    "training": {"seeds": [42], "test_intervals": {"min_blocks": 2}},
    "prithvi": {"model": {"trainer": {"max_epochs": 1}, "model_args": {"decoder_channels": 16}}},
    "resnet50": {"model": {"trainer": {"max_epochs": 1}}},
    "transition": {"min_test_units": 2},
    "mercury": {"interpolation": {"cv_block_size_m": 400.0}},
}


def test_there_are_notebooks_and_none_has_outputs() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"explore_a_run.ipynb", "label_a_reference_sample.ipynb"} <= names
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert unstripped(nb) == [], f"{path.name} has outputs: run `make notebooks-strip`"
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        assert sources[0].strip() == "%load_ext kedro.ipython", path.name  # the catalog's way
        assert not any("data/" in s for s in sources), f"{path.name}: a path, not the catalog"


def test_strip_removes_outputs_and_counts() -> None:
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", text="ran")]
    cell.execution_count = 3
    cell.metadata["execution"] = {"iopub.status.busy": "now"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}  # the kernel's
    assert unstripped(nb) != []
    assert strip(nb) is True
    assert unstripped(nb) == [] and strip(nb) is False
    assert nb.metadata["language_info"] == {"name": "python"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy with the small demo run through, and the notebooks beside it."""
    root = project_copy(tmp_path_factory.mktemp("notebooks") / "project")
    (root / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(SMALL_DEMO))
    result = kedro(root, "run", timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    if (REPO / "src/cocoa_threat/pipelines/reference_sample").is_dir():  # the kit: not default
        kit = kedro(root, "run", "--pipeline=reference_sample", timeout=600)
        assert kit.returncode == 0, (kit.stdout + kit.stderr)[-3000:]
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    return root


def _text(cell: nbformat.NotebookNode) -> str:
    parts = [o.get("text", "") for o in cell.get("outputs", [])]
    parts += [str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_the_notebook_runs_on_the_demo(demo_run: Path, name: str) -> None:
    # A cell that raises fails the test (CellExecutionError names the cell and the error).
    nb = execute(demo_run / "notebooks" / name, demo_run / "notebooks", timeout=600)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)  # every cell ran
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, f"{name} drew no figure"
    kit_cells = [c for c in code if KIT_TAG in c.metadata.get("tags", [])]
    if (REPO / "src/cocoa_threat/pipelines/reference_sample").is_dir():
        # With the kit in the project its cells must really run, not skip.
        assert all(SKIPPED not in _text(c) for c in kit_cells), name
    else:
        assert all(SKIPPED in _text(c) for c in kit_cells), name
