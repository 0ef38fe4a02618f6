"""Training: trains every model of ``training.models`` (Prithvi-EO-2.0 through TerraTorch, a
ResNet50 U-Net, a pixel random forest), one namespace each, once per seed of
``training.seeds``; keeps the best seed on validation mIoU, scores it once on the test split
with jackknife intervals over whole test blocks and ranks the models by their paired
differences."""

from cocoa_threat.pipelines.training.pipeline import comparison_pipeline, create_pipeline

__all__ = ["comparison_pipeline", "create_pipeline"]
