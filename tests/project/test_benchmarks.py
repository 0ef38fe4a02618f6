"""The GPU benchmark's code path runs (tiny models on the CPU) and writes the agreed records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FIELDS = {"model", "case", "km2_per_s", "tflops", "peak_gpu_gib", "device", "batch_size"}
FIELDS |= {"precision", "compile"}


def test_gpu_inference_smoke_run_writes_every_field(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    subprocess.run(
        [
            sys.executable,
            "benchmarks/gpu_inference.py",
            "--smoke",
            "--models",
            "prithvi",
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    records = json.loads(out.read_text())
    assert [r["case"] for r in records] == ["forward", "predict", "scene"]
    for r in records:
        assert FIELDS <= set(r), FIELDS - set(r)
        assert r["km2_per_s"] > 0 and r["tflops"] > 0
        assert r["device"] == "cpu" and r["precision"] == "float32" and r["compile"] is False
