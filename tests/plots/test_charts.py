"""Charts of tables: changes by district, money lost, risk sensitivity, mercury decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer

from cocoa_threat.analysis.mercury import decay_curve
from cocoa_threat.analysis.transitions import ChangeScheme
from cocoa_threat.plots.change import plot_transitions
from cocoa_threat.plots.charts import plot_losses, plot_sensitivity
from cocoa_threat.plots.mercury import plot_distance_decay
from tests.plots.conftest import legend_labels

SCHEME = ChangeScheme(
    classes=["background", "mining", "cocoa"],
    colours={"background": "#e8e3c9", "mining": "#d7301f", "cocoa": "#1a7a3a"},
    nodata=255,
    from_class="cocoa",
    to_class="mining",
    conversion_colour="#7b3294",
)


def test_transitions_stack_the_changes_of_each_district_in_code_order() -> None:
    by_district = pd.DataFrame(
        [
            ("Amansie West", "cocoa", "mining", 5.0),
            ("Amansie West", "background", "mining", 2.0),
            ("Amansie West", "cocoa", "cocoa", 100.0),  # stable: not a change
            ("Amansie Central", "cocoa", "mining", 3.0),
            ("Amansie Central", "mining", "mining", 40.0),
        ],
        columns=["district", "from_class", "to_class", "hectares"],
    )
    fig = plot_transitions(by_district, SCHEME)
    ax = fig.axes[0]
    assert legend_labels(ax) == ["background -> mining", "cocoa -> mining"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Amansie Central", "Amansie West"]
    background_mining, cocoa_mining = ax.containers
    assert [b.get_width() for b in cocoa_mining] == [3.0, 5.0]
    assert [b.get_width() for b in background_mining][1] == 2.0
    assert cocoa_mining[0].get_facecolor() == pytest.approx(to_rgba("#7b3294"))  # the conversion
    assert background_mining[1].get_facecolor() == pytest.approx(to_rgba("#d7301f"))
    assert ax.get_xlabel() == "hectares"


def _losses() -> pd.DataFrame:
    seasons = [f"{y}/{str(y + 1)[2:]}" for y in range(2016, 2022)]
    central = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) * 1e6
    table = pd.DataFrame({"season": seasons})
    for name, factor in (("low", 0.5), ("central", 1.0), ("high", 1.8)):
        table[f"value_lost_ghs_const_{name}"] = central * factor
        table[f"cumulative_ghs_const_{name}"] = np.cumsum(central * factor)
    return table


def test_losses_show_each_season_with_its_range_and_the_cumulative() -> None:
    table = _losses()
    fig = plot_losses(table, "2021/22")
    ax, cumulative_ax = fig.axes
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_height() for b in bars] == pytest.approx([1, 2, 3, 4, 5, 6])
    ranges = bars.errorbar.lines[2][0].get_segments()
    assert np.array([(s[0][1], s[1][1]) for s in ranges]) == pytest.approx(
        np.array([(0.5 * v, 1.8 * v) for v in range(1, 7)])
    )
    line = cumulative_ax.lines[0]
    assert line.get_ydata() == pytest.approx(np.cumsum([1, 2, 3, 4, 5, 6]))
    assert legend_labels(ax) == ["per season (low-high)", "cumulative"]
    assert "2021/22 prices" in ax.get_ylabel() and "2021/22 prices" in cumulative_ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == table["season"].tolist()


def test_sensitivity_is_a_tornado_sorted_by_effect() -> None:
    rows = [
        ("baseline", "baseline", 0.0),
        ("weight", "weight proximity +20%", 5.0),
        ("weight", "weight proximity -20%", -4.0),
        ("class break", "break 1 (0.25) +20%", -1.0),
        ("class break", "break 1 (0.25) -20%", 0.5),
        ("distance", "mining distance +20%", 12.0),
        ("distance", "mining distance -20%", -9.0),
    ]
    table = pd.DataFrame(rows, columns=["group", "scenario", "upper_classes_change_ha"])
    table["upper_classes_ha"] = 1200.0 + table["upper_classes_change_ha"]
    fig = plot_sensitivity(table, ["low", "medium", "high", "very high"], 0.2)
    ax = fig.axes[0]
    settings = [t.get_text() for t in ax.get_yticklabels()]
    assert settings == ["break 1 (0.25)", "weight proximity", "mining distance"]  # largest on top
    up, down = ax.containers
    assert [b.get_width() for b in up] == [-1.0, 5.0, 12.0]
    assert [b.get_width() for b in down] == [0.5, -4.0, -9.0]
    assert legend_labels(ax) == ["setting +20%", "setting -20%"]
    assert "high + very high risk" in ax.get_xlabel()
    assert "baseline 1,200 ha" in ax.get_xlabel()
    assert fig.get_size_inches()[1] == pytest.approx(0.35 * 3 + 1.5)


def test_distance_decay_shows_the_points_the_fit_and_the_reference_values() -> None:
    d = np.array([0.0, 100.0, np.nan, 500.0, 1000.0])
    c = np.array([90.0, 40.0, 5.0, 3.0, 1.5])
    params = [1.3, 100.0, 250.0]
    breaks = [2.6, 200.0, 300.0, 1000.0]
    labels = [
        "background (<= 2.6)",
        "elevated (2.6-200)",
        "above ATSDR MRL (200-300)",
        "above US EPA RfC (300-1000)",
        "above WHO guideline (> 1000)",
    ]
    fig = plot_distance_decay(d, c, params, breaks, labels)
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == 4  # the point without a distance is left out
    fit, *references = ax.lines
    assert fit.get_xdata()[-1] == 1000.0
    assert fit.get_ydata() == pytest.approx(np.exp(decay_curve(fit.get_xdata(), *params)))
    assert [line.get_ydata()[0] for line in references] == [200.0, 300.0, 1000.0]
    assert [t.get_text() for t in ax.texts] == [
        "above ATSDR MRL",
        "above US EPA RfC",
        "above WHO guideline",
    ]
    assert ax.get_yscale() == "log"
    assert "L = 250 m" in ax.get_title()
    assert legend_labels(ax) == ["survey points", "fitted decay"]
