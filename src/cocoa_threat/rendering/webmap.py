"""An interactive map in one HTML file that opens offline: Leaflet inlined, layers, pop-ups.

Leaflet 1.9.4 (BSD-2-Clause) comes from the PyPI package ``django-js-lib-leaflet``
(only its static files are read; Django is not needed): its JavaScript and CSS are
inlined, its CSS images become data URIs, and the few web addresses in it (a
source-map comment, links in comments and the default attribution) are removed.
The map uses plate carrée (EPSG:4326) and no basemap, so nothing is fetched:
rasters are PNG overlays placed by their lon/lat bounds (inlined, or for large
scenes tiles in a folder beside the page, referenced by relative paths).
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cocoa_threat.geo.overlay import Overlay

LEAFLET_PACKAGE = "js_lib_leaflet"
LEAFLET_VERSION = "1.9.4"


@dataclass
class MapLayer:
    """One switchable layer of the map.

    Attributes:
        name: Shown in the layer switcher (unique).
        kind: ``raster``, ``polygons`` or ``points``.
        legend: ``{"title", "categories": [[label, colour]]}`` or
            ``{"title", "gradient": [colours], "min", "max"}``.
        overlays: Images of a raster layer.
        geojson: Features of a vector layer; ``properties.popup`` (a flat dict) is
            shown on click, ``properties.colour`` fills it.
        visible: Shown when the map opens.
        opacity: Of a raster layer.
        group: Layers of one group are exclusive (a switch: showing one hides the
            others, e.g. the years of a series); None: independent.
        below: Drawn under every other layer (a true-colour picture under the classes).
    """

    name: str
    kind: str
    legend: dict[str, Any]
    overlays: list[Overlay] = field(default_factory=list)
    geojson: dict[str, Any] | None = None
    visible: bool = True
    opacity: float = 0.8
    group: str | None = None
    below: bool = False


@dataclass
class WebMap:
    """The page and the tile files it refers to (paths relative to the page's folder)."""

    html: str
    files: dict[str, bytes] = field(default_factory=dict)
    files_folder: str = "map_files"  # where ``files`` live, beside the page


def _replace_once(text: str, old: str, new: str, what: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError(
            f"Leaflet {what}: expected one {old!r}; has django-js-lib-leaflet changed? "
            f"(pin {LEAFLET_VERSION})"
        )
    return text.replace(old, new)


def load_leaflet() -> tuple[str, str, str]:
    """Leaflet's JavaScript, CSS (images inlined) and licence, with no web address left.

    Raises:
        RuntimeError: If the installed package is not the expected Leaflet version.
    """
    from importlib.metadata import distribution

    folder = importlib.resources.files(LEAFLET_PACKAGE) / "static" / LEAFLET_PACKAGE
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")
    version = re.search(r'\.version="([^"]+)"', js)
    if not version or version.group(1) != LEAFLET_VERSION:
        raise RuntimeError(f"expected Leaflet {LEAFLET_VERSION}, found {version and version[1]}")
    js = re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js)
    js = _replace_once(js, "interactive maps. https://leafletjs.com", "interactive maps.", "header")
    js = _replace_once(js, '<a href="https://leafletjs.com" ', "<a ", "attribution")
    if "</script" in js.lower():
        raise RuntimeError("Leaflet's code would end the inline script")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode((folder / "images" / name).read_bytes()).decode()
        css = _replace_once(
            css, f"url(images/{name})", f'url("data:image/png;base64,{data}")', name
        )
    dist = distribution("django-js-lib-leaflet")
    licence = next(
        (
            dist.locate_file(f).read_text()
            for f in dist.files or []
            if f.name.upper().startswith("LICENSE")
        ),
        "BSD-2-Clause, (c) Vladimir Agafonkin, CloudMade",
    )
    return js, css, str(licence)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _layer_config(
    layer: MapLayer, inline: bool, folder: str, files: dict[str, bytes]
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": layer.name,
        "kind": layer.kind,
        "legend": layer.legend,
        "visible": layer.visible,
        "opacity": layer.opacity,
        "group": layer.group,
        "below": layer.below,
    }
    if layer.kind == "raster":
        images = []
        for i, overlay in enumerate(layer.overlays):
            png = overlay.png()
            if inline:
                src = "data:image/png;base64," + base64.b64encode(png).decode()
            else:
                src = f"{folder}/{_slug(layer.name)}_{i:03d}.png"
                files[src] = png
            images.append({"src": src, "bounds": overlay.bounds})
        config["images"] = images
    else:
        config["geojson"] = layer.geojson
    return config


def build_web_map(title: str, layers: list[MapLayer], files_folder: str) -> WebMap:
    """The page: every layer switchable, pop-ups, one legend per visible layer, a scale bar.

    A raster layer of one image is inlined; one of several (tiles of a large
    scene) is written to ``files_folder`` beside the page.
    """
    js, css, licence = load_leaflet()
    files: dict[str, bytes] = {}
    config = {
        "title": title,
        "layers": [
            _layer_config(layer, len(layer.overlays) <= 1, files_folder, files) for layer in layers
        ],
    }
    data = json.dumps(config, separators=(",", ":")).replace("<", "\\u003c")
    page = PAGE.format(
        title=html.escape(title),
        licence=html.escape(licence).replace("--", "- -"),
        css=css,
        js=js,
        config=data,
        app=APP,
    )
    return WebMap(page, files, files_folder)


APP = """
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map("map", {crs: L.CRS.EPSG4326, attributionControl: false, zoomSnap: 0.25});
  var overlays = {}, legends = {}, groups = {}, bounds = null;
  map.createPane("below"); map.getPane("below").style.zIndex = 350;
  function grow(b) { bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
  function popupNode(props) {
    var t = document.createElement("table");
    Object.keys(props).forEach(function (k) {
      var tr = t.insertRow(), a = tr.insertCell(), b = tr.insertCell();
      a.textContent = k; b.textContent = String(props[k]); a.style.fontWeight = "bold";
    });
    return t;
  }
  cfg.layers.forEach(function (c) {
    var layer;
    if (c.kind === "raster") {
      layer = L.layerGroup(c.images.map(function (im) {
        var b = L.latLngBounds(im.bounds); grow(b);
        return L.imageOverlay(im.src, b, {opacity: c.opacity, interactive: false,
                                          pane: c.below ? "below" : "overlayPane"});
      }));
    } else {
      layer = L.geoJSON(c.geojson, {
        style: function (f) {
          return {color: "#222", weight: 1.2, fillColor: f.properties.colour || "#ffffff",
                  fillOpacity: f.properties.colour ? 0.35 : 0.0};
        },
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, {radius: 4, color: "#000", weight: 0.6,
                                     fillColor: f.properties.colour || "#1f78b4", fillOpacity: 0.9});
        },
        onEachFeature: function (f, l) {
          if (f.properties.popup) { l.bindPopup(popupNode(f.properties.popup)); }
        }
      });
      if (layer.getLayers().length) { grow(layer.getBounds()); }
    }
    overlays[c.name] = layer; legends[c.name] = c.legend; groups[c.name] = c.group;
    var taken = c.group && Object.keys(overlays).some(function (n) {
      return n !== c.name && groups[n] === c.group && map.hasLayer(overlays[n]);
    });
    if (c.visible && !taken) { layer.addTo(map); }
  });
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  L.control.scale({imperial: false, maxWidth: 180}).addTo(map);
  var box = L.control({position: "bottomright"});
  box.onAdd = function () {
    var d = L.DomUtil.create("div", "legend"); L.DomEvent.disableClickPropagation(d); return d;
  };
  box.addTo(map);
  function draw() {
    var d = box.getContainer(); d.innerHTML = "";
    cfg.layers.forEach(function (c) {
      if (!map.hasLayer(overlays[c.name]) || !c.legend) { return; }
      var lg = c.legend, h = document.createElement("div");
      h.className = "legend-title"; h.textContent = lg.title; d.appendChild(h);
      if (lg.gradient) {
        var bar = document.createElement("div"); bar.className = "bar";
        bar.style.background = "linear-gradient(to right," + lg.gradient.join(",") + ")";
        d.appendChild(bar);
        var lab = document.createElement("div"); lab.className = "ends";
        [lg.min, lg.max].forEach(function (v) {
          var s = document.createElement("span"); s.textContent = v; lab.appendChild(s); });
        d.appendChild(lab);
      }
      (lg.categories || []).forEach(function (cat) {
        var row = document.createElement("div"), sw = document.createElement("span");
        sw.className = "sw"; sw.style.background = cat[1];
        row.appendChild(sw); row.appendChild(document.createTextNode(cat[0])); d.appendChild(row);
      });
    });
  }
  // A group is a switch: showing one of its layers hides the others (e.g. the years).
  map.on("overlayadd", function (e) {
    var g = groups[e.name];
    if (!g) { return; }
    // After the layer control's click is handled, so that it unticks the others.
    setTimeout(function () {
      Object.keys(overlays).forEach(function (n) {
        if (n !== e.name && groups[n] === g && map.hasLayer(overlays[n])) { map.removeLayer(overlays[n]); }
      });
    }, 0);
  });
  function shown() {
    document.body.setAttribute("data-map-shown", Object.keys(overlays).filter(function (n) {
      return map.hasLayer(overlays[n]); }).join("|"));
  }
  map.on("overlayadd overlayremove", function () { draw(); shown(); }); draw(); shown();
  if (bounds) { map.fitBounds(bounds.pad(0.03)); } else { map.setView([0, 0], 2); }
  document.title = cfg.title;
  document.body.setAttribute("data-map-layers", Object.keys(overlays).join("|"));
  document.body.setAttribute("data-map-ready", "yes");
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<!-- Leaflet 1.9.4, inlined. Its licence:
{licence}
-->
<style>{css}</style>
<style>
html,body,#map{{height:100%;margin:0;background:#f4f4f4}}
.legend{{background:#fff;padding:6px 8px;font:12px/1.4 sans-serif;border-radius:4px;
box-shadow:0 0 6px rgba(0,0,0,.3);max-height:60vh;overflow-y:auto}}
.legend-title{{font-weight:bold;margin-top:4px}}
.legend .bar{{width:170px;height:10px}}
.legend .ends{{display:flex;justify-content:space-between}}
.legend .sw{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}}
</style>
<script>{js}</script>
</head><body>
<div id="map"></div>
<script type="application/json" id="map-config">{config}</script>
<script>{app}</script>
</body></html>
"""
