"""Mercury: checks a survey of gaseous elemental mercury in air, interpolates its
log-concentration by the method of ``mercury.interpolation.methods`` (IDW, simple or
ordinary kriging) with the lowest spatial-block cross-validation error, and counts the
cocoa area per concentration class (ATSDR / EPA / WHO reference values), beside the decay
of concentration with distance to mining."""

from cocoa_threat.pipelines.mercury.pipeline import create_pipeline

__all__ = ["create_pipeline"]
