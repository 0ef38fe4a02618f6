"""Names from the data are text: a district name never becomes a link, script or image."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import markdown
import pandas as pd
import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.pipelines.economics import create_pipeline as economics_pipeline
from cocoa_threat.pipelines.mercury import create_pipeline as mercury_pipeline
from cocoa_threat.pipelines.reporting import create_pipeline as reporting_pipeline
from cocoa_threat.pipelines.risk import create_pipeline as risk_pipeline
from cocoa_threat.pipelines.transition import create_pipeline as transition_pipeline
from cocoa_threat.rendering.offline import foreign_references
from cocoa_threat.rendering.tables import markdown_table
from tests.conftest import ProjectConf

HOSTILE = [
    "[click](javascript:alert(3))",
    "<img src=x onerror=alert(1)>",
    "![pixel](https://example.com/track.png)",
    "<a href='https://example.com'>here</a>",
    "a|b *c* `d` __e__",
]


def _html(md: str) -> str:
    return markdown.markdown(md, extensions=["tables", "fenced_code"])


class _Cells(HTMLParser):
    """The text a reader sees in each table cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


def cells(page: str) -> list[str]:
    parser = _Cells()
    parser.feed(page)
    return parser.cells


def test_hostile_cells_and_headers_render_as_their_own_text() -> None:
    table = pd.DataFrame({name: [name] for name in HOSTILE})
    page = _html(markdown_table(table))
    assert foreign_references(page) == []
    assert "<script" not in page and "<img" not in page and "<a " not in page
    # The reader sees the names as they are written.
    assert cells(page) == HOSTILE + HOSTILE


@pytest.mark.parametrize(
    "page",
    [
        "<p><a href='javascript:alert(3)'>x</a></p>",
        "<p><a href='https://example.com'>x</a></p>",
        "<img src='https://example.com/x.png'>",
        "<p onclick='x()'>x</p>",
        "<script>alert(1)</script>",
        "<iframe src='map.html'></iframe>",
        "<meta http-equiv='refresh' content='0;url=https://example.com'>",
    ],
)
def test_any_other_link_or_active_content_is_found(page: str) -> None:
    assert foreign_references(page)


def test_own_anchors_the_map_and_embedded_figures_are_allowed() -> None:
    page = (
        "<meta charset='utf-8'><a href='#economics'>x</a><a href='map.html'>map</a>"
        "<a href='map.html#risk'>risk</a><img src='data:image/png;base64,iVBORw0KGgo='>"
    )
    assert foreign_references(page) == []


def test_a_report_with_hostile_district_names(transitioned: ProjectConf) -> None:
    raw = Path(transitioned.catalog["districts_raw"]["filepath"])
    districts = gpd.read_file(raw)
    districts["district"] = HOSTILE[: len(districts)]
    districts.to_file(raw, driver="GPKG", layer="districts")
    for pipeline in (transition_pipeline(), economics_pipeline(), mercury_pipeline()):
        SequentialRunner().run(pipeline, transitioned.catalog_with_params())
    SequentialRunner().run(risk_pipeline(), transitioned.catalog_with_params())
    catalog = transitioned.catalog_with_params()
    SequentialRunner().run(reporting_pipeline(), catalog)
    page = Path(transitioned.root, "data/08_reporting/report.html").read_text()
    assert foreign_references(page) == []
    shown = cells(page)
    for name in HOSTILE[: len(districts)]:
        assert name in shown  # in the tables by district, as written


def test_a_fenced_block_can_not_be_closed_from_inside() -> None:
    from cocoa_threat.rendering.report import fenced

    text = "name: x\n```\n<script>alert(1)</script>\n"
    page = _html(fenced(text, "yaml"))
    assert "<script>" not in page and "&lt;script&gt;" in page
