"""Figures of the models: confusion matrices, training curves and sample patches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from matplotlib.colors import to_rgba
from rasterio.crs import CRS

from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse
from cocoa_threat.plots.models import plot_confusion_matrices, plot_training_curves
from cocoa_threat.plots.patches import plot_sample_patches
from tests.plots.conftest import legend_labels

CLASSES = ["background", "mining", "cocoa"]
GRID, UTM = Affine(10, 0, 0, 0, -10, 0), CRS.from_epsg(32630)
LAND_USE = LandUse(
    classes=CLASSES,
    colours={"background": "#e8e3c9", "mining": "#d7301f", "cocoa": "#1a7a3a"},
)


def test_confusion_matrices_are_row_normalised_one_panel_per_group() -> None:
    metrics = {
        "model": "resnet50",
        "class_names": CLASSES,
        "test": {
            "2016": {"confusion_matrix": [[8, 2, 0], [0, 5, 5], [0, 0, 0]], "miou": 0.6123},
            "all": {"confusion_matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "miou": None},
        },
    }
    fig = plot_confusion_matrices(metrics)
    first, second = fig.axes
    assert fig.get_size_inches() == pytest.approx((8.4, 4.0))
    assert (first.get_title(), second.get_title()) == ("2016: mIoU 0.612", "all")
    assert "resnet50" in fig.get_suptitle()
    shares = first.images[0].get_array()
    assert shares[:2].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    assert shares[2].tolist() == pytest.approx(
        [0.0, 0.0, 0.0]
    )  # no reference pixel: no division by 0
    cells = {(t.get_position()): t for t in first.texts}
    assert cells[(2, 1)].get_text() == "0.50\n5"  # reference mining, predicted cocoa
    assert cells[(0, 0)].get_color() == "white"  # dark cell (0.80)
    assert cells[(1, 0)].get_color() == "black"
    assert [t.get_text() for t in first.get_xticklabels()] == CLASSES


def test_training_curves_plot_only_the_curves_that_were_logged() -> None:
    history = pd.DataFrame(
        {
            "epoch": [0, 1, 2],
            "train/loss": [1.0, 0.7, 0.5],
            "val/loss": [1.1, 0.9, 0.8],
            "train/mIoU": [np.nan] * 3,  # logged per step only: nothing per epoch
            "val/mIoU": [0.3, 0.45, 0.5],
        }
    )
    fig = plot_training_curves(history, "resnet50")
    loss, miou = fig.axes
    assert legend_labels(loss) == ["train", "val"]
    assert list(loss.lines[1].get_ydata()) == [1.1, 0.9, 0.8]
    assert legend_labels(miou) == ["val"]
    assert fig.get_suptitle() == "resnet50: training curves"
    empty = plot_training_curves(pd.DataFrame({"epoch": [0, 1]}), "rf")
    assert all(not ax.lines and ax.get_legend() is None for ax in empty.axes)


def _patches() -> tuple[dict, pd.DataFrame]:
    """Three tiles in two years; tile 1002 has the most mining, then 1000."""
    mining = {"1000": (0.2, 0.3), "1001": (0.0, 0.05), "1002": (0.6, 0.1)}
    model_input, rows = {}, []
    rng = np.random.default_rng(0)
    for tile, fractions in mining.items():
        for year, fraction in zip((2016, 2022), fractions, strict=True):
            sample, split = f"{tile}_{year}", "train" if tile != "1002" else "test"
            image = rng.uniform(500, 3000, (6, 16, 16)).astype(np.float32)
            image[:, 0, 0] = -9999.0  # image nodata
            labels = np.full((1, 16, 16), 2, dtype=np.uint8)
            labels[0, :4] = 255  # no label
            labels[0, 8:] = 1
            model_input[f"{split}/{sample}_img"] = lambda d=image: Raster(d, GRID, UTM, -9999.0)
            model_input[f"{split}/{sample}_lbl"] = lambda d=labels: Raster(d, GRID, UTM, 255)
            row = {"tile_id": tile, "year": year, "split": split, "sample": sample}
            rows.append(row | {"fraction_mining": fraction})
    return model_input, pd.DataFrame(rows)


def test_sample_patches_show_the_tiles_with_most_mining_in_every_year() -> None:
    model_input, manifest = _patches()
    fig = plot_sample_patches(model_input, manifest, 2, LAND_USE)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 2 * 4  # 2 tiles x (image, labels) x 2 years
    assert titles[:4] == [
        "tile 1002, 2016",
        "labels 2016 (test)",
        "tile 1002, 2022",
        "labels 2022 (test)",
    ]
    assert titles[4] == "tile 1000, 2016"
    assert not any(ax.axison for ax in fig.axes)
    assert legend_labels(fig) == CLASSES
    rgb = fig.axes[0].images[0].get_array()
    assert rgb.shape == (16, 16, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0, 0].tolist() == pytest.approx([0, 0, 0])  # image nodata is not stretched in
    labels = fig.axes[1].images[0]
    colours = labels.to_rgba(labels.get_array())
    assert np.all(colours[:4, :, 3] == 0.0)  # no label: transparent
    assert tuple(colours[12, 0]) == pytest.approx(to_rgba(LAND_USE.colours["mining"]))
    assert tuple(colours[5, 0]) == pytest.approx(to_rgba(LAND_USE.colours["cocoa"]))
