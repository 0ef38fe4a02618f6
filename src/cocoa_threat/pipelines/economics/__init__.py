"""Economics: values the cocoa lost to mining (area converted x yield x producer price, per
season) in cedis and US dollars, cumulative and as present values under price scenarios,
low / central / high."""

from cocoa_threat.pipelines.economics.pipeline import create_pipeline

__all__ = ["create_pipeline"]
