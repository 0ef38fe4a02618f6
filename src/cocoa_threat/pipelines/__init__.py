"""cocoa-threat pipelines, one folder each."""
