"""SmallMinesDS as released: layout, checks, the study's labels, splits and the Hub download.

The science of ingestion lives here; ``pipelines/ingestion`` only wires it to
the catalog. The demo region (:mod:`cocoa_threat.demo`) is written in the same
layout and goes through exactly the same code.
"""
