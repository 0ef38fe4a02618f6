"""cocoa-threat: how artisanal gold mining eats into Ghana's cocoa landscapes."""

__version__ = "0.1.0"
