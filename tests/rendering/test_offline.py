"""The offline check finds every resource a page would fetch from elsewhere."""

from __future__ import annotations

import pytest

from cocoa_threat.rendering.offline import external_resources
from cocoa_threat.rendering.report import render_report

SELF_CONTAINED = """<!DOCTYPE html><html><head><style>body{background:url(data:image/png;base64,AA)}</style>
<script>var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");</script></head>
<body><img src="data:image/png;base64,iVBORw0KGgo="><a href="https://cocobod.gh">source</a>
</body></html>"""


def test_a_self_contained_page_passes() -> None:
    assert external_resources(SELF_CONTAINED) == []


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ('<script src="https://unpkg.com/leaflet.js"></script>', "<script src=https://unpkg"),
        ('<script src="//cdn.example.org/x.js"></script>', "<script src=//cdn.example.org"),
        ('<link rel="stylesheet" href="http://a.org/x.css">', "<link href=http://a.org/x.css>"),
        ('<img src="figures/map.png">', "<img src=figures/map.png>"),
        ('<img srcset="data:image/png;base64,AA 1x, https://a.org/b.png 2x">', "https://a.org"),
        ("<style>@import 'https://fonts.example.com/f.css';</style>", "@import"),
        ('<div style="background:url(https://a.org/t.png)"></div>', "<div style> url("),
        ('<script>L.tileLayer("https://tile.osm.org/{z}/{x}/{y}.png")</script>', "tile.osm.org"),
        ('<iframe src="https://example.org"></iframe>', "<iframe src="),
    ],
)
def test_every_kind_of_external_resource_is_caught(snippet: str, found: str) -> None:
    page = SELF_CONTAINED.replace("</body>", snippet + "</body>")
    external = external_resources(page)
    assert len(external) == 1 and found in external[0], external


def test_the_report_refuses_a_template_that_loads_from_the_web(monkeypatch) -> None:
    from cocoa_threat.rendering import report

    class Template:
        def render(self, **context: object) -> str:
            return '# Report\n\n<script src="https://cdn.example.org/x.js"></script>\n'

    class Env:
        def get_template(self, name: str) -> Template:
            return Template()

    monkeypatch.setattr(report, "_environment", Env)
    with pytest.raises(ValueError, match=r"link to or load 2 thing.*https://cdn.example.org/x.js"):
        render_report(*[None] * 7)  # type: ignore[arg-type]
