"""The offset of processing baseline 04.00, read from each scene's metadata.

From 25 January 2022 (processing baseline 04.00) Sentinel-2 L2A digital numbers
carry an offset: reflectance x 10000 = DN + BOA_ADD_OFFSET, with BOA_ADD_OFFSET
= -1000 (ESA, "Copernicus Sentinel-2: Major Products Upgrade", baseline 04.00).
Catalogs record it differently, and some have already applied it to their
files. :func:`decide_offset` reads every field a catalog may record, takes the
first of ``imagery.harmonise.sources`` that says something, and reports the
fields that disagree with it; a scene that records nothing is an error, unless
the acquisition date is explicitly allowed as a source (a guess).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pystac

from cocoa_threat.params.imagery import HarmoniseSpec

logger = logging.getLogger(__name__)

BASELINE_KEYS = ("s2:processing_baseline", "sentinel:processing_baseline")
APPLIED_KEYS = ("earthsearch:boa_offset_applied", "sentinel:boa_offset_applied")


@dataclass(frozen=True)
class OffsetDecision:
    """What to add to one scene's digital numbers, per asset, and why.

    Attributes:
        item_id: The scene.
        offsets: Asset key -> value added to its digital numbers.
        source: The metadata field that decided.
        baseline: The processing baseline, if recorded.
        conflicts: Other fields that said something else.
    """

    item_id: str
    offsets: dict[str, float]
    source: str
    baseline: str | None
    conflicts: list[str] = field(default_factory=list)


def _baseline(item: pystac.Item) -> str | None:
    for key in BASELINE_KEYS:
        if item.properties.get(key) is not None:
            return str(item.properties[key])
    return None


def _is_new(baseline: str, spec: HarmoniseSpec) -> bool:
    try:
        return float(baseline) >= float(spec.new_baseline)
    except ValueError as exc:
        raise ValueError(f"processing baseline {baseline!r} is not a number") from exc


def _uniform(assets: list[str], value: float) -> dict[str, float]:
    return dict.fromkeys(assets, value)


def _from_applied(item: pystac.Item, assets: list[str], spec: HarmoniseSpec) -> Any:
    flag = next((item.properties[k] for k in APPLIED_KEYS if k in item.properties), None)
    if flag is None:
        return None
    if flag:
        return _uniform(assets, 0.0)
    baseline = _baseline(item)
    if baseline is None:
        return None
    return _uniform(assets, spec.boa_add_offset if _is_new(baseline, spec) else 0.0)


def _from_raster_bands(item: pystac.Item, assets: list[str], spec: HarmoniseSpec) -> Any:
    out = {}
    for key in assets:
        bands = item.assets[key].extra_fields.get("raster:bands") or [{}]
        if "offset" not in bands[0]:
            return None
        scale = float(bands[0].get("scale", 1.0))
        out[key] = round(float(bands[0]["offset"]) / scale, 6)  # in digital numbers
    return out


def _from_baseline(item: pystac.Item, assets: list[str], spec: HarmoniseSpec) -> Any:
    baseline = _baseline(item)
    if baseline is None:
        return None
    return _uniform(assets, spec.boa_add_offset if _is_new(baseline, spec) else 0.0)


def _from_date(item: pystac.Item, assets: list[str], spec: HarmoniseSpec) -> Any:
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        return None
    return _uniform(
        assets, spec.boa_add_offset if when.date() >= spec.baseline_change_date else 0.0
    )


def _same_evidence(a: str, b: str) -> bool:
    """The applied flag already reads the baseline: a file corrected by its catalog is
    still a baseline-04.00 product, so those two never conflict."""
    return {a, b} == {"earthsearch:boa_offset_applied", "s2:processing_baseline"}


READERS = {
    "earthsearch:boa_offset_applied": _from_applied,
    "raster:bands": _from_raster_bands,
    "s2:processing_baseline": _from_baseline,
    "date": _from_date,
}


def decide_offset(item: pystac.Item, assets: list[str], spec: HarmoniseSpec) -> OffsetDecision:
    """The offset of every reflectance asset of a scene, from its metadata.

    Args:
        item: The scene.
        assets: Its reflectance asset keys.
        spec: ``imagery.harmonise``.

    Returns:
        The offsets, the field that decided and any disagreeing fields.

    Raises:
        ValueError: If no field of ``spec.sources`` is recorded, or fields
            disagree and ``spec.on_conflict`` is ``error``.
    """
    said = {}
    for name, reader in READERS.items():
        if name == "date" and name not in spec.sources:
            continue  # the date is a guess: only when asked for
        value = reader(item, assets, spec)
        if value is not None:
            said[name] = value
    chosen = next((s for s in spec.sources if s in said), None)
    if chosen is None:
        raise ValueError(
            f"Scene {item.id} records none of {spec.sources} (imagery.harmonise.sources), so "
            f"its processing-baseline offset is unknown. Add the field its catalog records, or "
            f"'date' to take scenes from {spec.baseline_change_date} on as baseline 04.00 "
            f"(a guess)"
        )
    offsets = said[chosen]
    conflicts = [
        f"{name} says {sorted(set(value.values()))}"
        for name, value in said.items()
        if name != chosen and value != offsets and not _same_evidence(name, chosen)
    ]
    if conflicts:
        message = (
            f"Scene {item.id}: {chosen} says offset {sorted(set(offsets.values()))} (used) but "
            f"{'; '.join(conflicts)}. Order imagery.harmonise.sources by which field its "
            f"catalog gets right (see docs/imagery.md)"
        )
        if spec.on_conflict == "error":
            raise ValueError(message + ", or set imagery.harmonise.on_conflict: warn")
        logger.warning(message)
    return OffsetDecision(item.id, offsets, chosen, _baseline(item), conflicts)
