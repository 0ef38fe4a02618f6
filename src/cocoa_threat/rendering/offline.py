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


# What a report may point at: its own anchors, the interactive map beside it, and
# figures embedded as PNG data.
REPORT_LINKS = ("map.html",)
ACTIVE_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base",
    "link", "audio", "video", "source", "track", "svg", "math",
}  # fmt: skip
LINK_ATTRIBUTES = RESOURCE_ATTRIBUTES | {"href", "xlink:href", "cite", "longdesc", "ping"}


def _allowed(tag: str, name: str, value: str, pages: tuple[str, ...]) -> bool:
    ref = value.strip()
    if name == "src" and tag == "img":
        return ref.startswith("data:image/png;base64,")
    if name == "href" and tag == "a":
        return ref.startswith("#") or ref.split("#")[0] in pages
    return False


class _References(HTMLParser):
    """Collects every reference, active element and event handler of a page."""

    def __init__(self, pages: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.pages = pages
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS or (tag == "meta" and any(n != "charset" for n, _ in attrs)):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            elif name in LINK_ATTRIBUTES and not _allowed(tag, name, value or "", self.pages):
                self.found.append(f"<{tag} {name}={(value or '')[:60]}>")


def foreign_references(page: str, pages: tuple[str, ...] = REPORT_LINKS) -> list[str]:
    """What a report page links to or runs beyond its anchors, ``pages`` and embedded PNGs.

    Stricter than :func:`external_resources`: plain links count too, and so do
    scripts, frames, forms and event handlers, whatever they point at.

    Args:
        page: The HTML text.
        pages: Files beside the page it may link to.

    Returns:
        One description per foreign reference (empty: the page is closed).
    """
    parser = _References(pages)
    parser.feed(page)
    parser.close()
    return parser.found
