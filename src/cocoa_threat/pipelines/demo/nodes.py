"""Nodes of the demo pipeline: the synthetic region's four raw inputs, made only when stale.

The region is computed by :mod:`cocoa_threat.demo.region`; the catalog's raw
datasets write what these nodes return (``UNCHANGED``: nothing), so an input
that is up to date, or that you edited, is never rewritten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cocoa_threat.demo import region
from cocoa_threat.demo.region import Landscape
from cocoa_threat.params.demo import DemoRegionConfig
from cocoa_threat.raw import UNCHANGED, RawProduct, fingerprint_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoLandscape:
    """The region's landscape, or None when nothing that needs it is to be written."""

    land: Landscape | None


def plan_demo(
    demo: DemoRegionConfig,
    raw_tiles_stamp: dict[str, Any] | None,
    cocoa_layer_raw_stamp: dict[str, Any] | None,
    districts_raw_stamp: dict[str, Any] | None,
    mercury_survey_raw_stamp: dict[str, Any] | None,
) -> dict[str, str]:
    """Which raw inputs of the demo to write: those missing or made from other parameters.

    Returns:
        ``demo_plan``: product -> the fingerprint it will be stamped with.
    """
    recorded = {
        "tiles": fingerprint_of(raw_tiles_stamp),
        "cocoa_layer": fingerprint_of(cocoa_layer_raw_stamp),
        "districts": fingerprint_of(districts_raw_stamp),
        "mercury_survey": fingerprint_of(mercury_survey_raw_stamp),
    }
    plan = region.stale_products(demo, recorded)
    logger.info("Demo region: %s", ", ".join(plan) + " to write" if plan else "up to date")
    return plan


def demo_landscape(demo_plan: dict[str, str], demo: DemoRegionConfig) -> DemoLandscape:
    """The region's landscape, built only if a product that needs it is to be written."""
    if not set(demo_plan) & set(region.NEEDS_LANDSCAPE):
        return DemoLandscape(None)
    return DemoLandscape(region.build_land(demo))


def demo_tiles(
    demo_landscape: DemoLandscape, demo_plan: dict[str, str], demo: DemoRegionConfig
) -> RawProduct | object:
    """The tiles in the SmallMinesDS layout (``raw_tiles``), or ``UNCHANGED``."""
    if "tiles" not in demo_plan or demo_landscape.land is None:
        return UNCHANGED
    rasters, facts = region.tile_rasters(demo, demo_landscape.land)
    return RawProduct(region.stamp("tiles", demo_plan["tiles"], facts), data=rasters)


def demo_cocoa_layer(
    demo_landscape: DemoLandscape, demo_plan: dict[str, str], demo: DemoRegionConfig
) -> RawProduct | object:
    """The cocoa-probability layer (``cocoa_layer_raw``), or ``UNCHANGED``."""
    if "cocoa_layer" not in demo_plan or demo_landscape.land is None:
        return UNCHANGED
    raster = region.cocoa_layer_raster(demo, demo_landscape.land)
    facts = {"crs": demo.cocoa_layer.crs, "scale": demo.cocoa_layer.scale}
    return RawProduct(region.stamp("cocoa_layer", demo_plan["cocoa_layer"], facts), data=raster)


def demo_districts(demo_plan: dict[str, str], demo: DemoRegionConfig) -> RawProduct | object:
    """District boundaries (``districts_raw``), or ``UNCHANGED``."""
    if "districts" not in demo_plan:
        return UNCHANGED
    stamp = region.stamp("districts", demo_plan["districts"])
    return RawProduct(stamp, data=region.district_frame(demo))


def demo_mercury_survey(
    demo_landscape: DemoLandscape, demo_plan: dict[str, str], demo: DemoRegionConfig
) -> RawProduct | object:
    """The mercury survey (``mercury_survey_raw``), or ``UNCHANGED``."""
    if "mercury_survey" not in demo_plan or demo_landscape.land is None:
        return UNCHANGED
    table = region.survey_frame(demo, demo_landscape.land)
    return RawProduct(region.stamp("mercury_survey", demo_plan["mercury_survey"]), data=table)
