"""Check that an HTML page opens offline: nothing it loads comes from elsewhere.

A page is self-contained when every resource it would fetch (scripts, style
sheets, images, frames, fonts, CSS ``url()``/``@import``) is inline or a
``data:`` URI, and no inline script names a web address. Plain links
(``<a href>``) are not resources: a reader may follow them, the page does not.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Not fetched: the SVG namespace that scripts and inline SVG name as an identifier.
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
RESOURCE_ATTRIBUTES = {"src", "srcset", "data", "poster", "background", "action", "formaction"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
WEB_ADDRESS = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s'"<>)]*""")


def _external(ref: str) -> bool:
    ref = ref.strip()
    if not ref or ref.startswith(("data:", "#", "about:blank", "javascript:")):
        return False
    return ref not in NAMESPACES


class _Resources(HTMLParser):
    """Collects what a page would load: attributes, CSS and inline-script addresses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in RESOURCE_ATTRIBUTES or (tag == "link" and name == "href"):
                # srcset: "url 1x, url 2x" (a data URI's own comma has no space after it)
                parts = re.split(r",\s+", value) if name == "srcset" else [value]
                refs = [part.split()[0] for part in parts if part.strip()]
                self.found += [f"<{tag} {name}={r}>" for r in refs if _external(r)]
            if name == "style":
                self._css(value, f"<{tag} style>")
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self._css(data, "<style>")
        elif self._in == "script":
            for match in WEB_ADDRESS.finditer(data):
                if _external(match.group(0)) and not match.group(0).startswith(NAMESPACES):
                    self.found.append(f"<script> names {match.group(0)}")

    def _css(self, text: str, where: str) -> None:
        for match in CSS_URL.finditer(text):
            ref = match.group(1) or match.group(2)
            if _external(ref):
                kind = "url" if match.group(1) else "@import"
                self.found.append(f"{where} {kind}({ref})")


def external_resources(page: str) -> list[str]:
    """What an HTML page would fetch from elsewhere (empty: it opens offline).

    Args:
        page: The HTML text.

    Returns:
        One description per external resource, e.g. ``<script src=https://...>``.
    """
    parser = _Resources()
    parser.feed(page)
    parser.close()
    return parser.found
