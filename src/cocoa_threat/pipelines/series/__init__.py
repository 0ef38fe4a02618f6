"""Series: land-use maps of any list of years from the imagery pipeline's composites,
class areas per district and year, and the change of every interval (map areas)."""

from cocoa_threat.pipelines.series.pipeline import create_pipeline

__all__ = ["create_pipeline"]
