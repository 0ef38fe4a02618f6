"""Risk: a 0-1 risk score for every cocoa pixel from proximity to mining, new mining nearby,
mercury and position below mining (weights in conf), in classes low to very high, per
district, with a weight-sensitivity table."""

from cocoa_threat.pipelines.risk.pipeline import create_pipeline

__all__ = ["create_pipeline"]
