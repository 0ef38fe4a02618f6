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


CHAIN_FIELDS = {"stage", "workers", "size_px", "seconds", "km2_per_s", "peak_rss_gib", "machine"}


def test_scale_chain_smoke_run_writes_every_stage_and_agrees_across_workers(
    tmp_path: Path,
) -> None:
    out = tmp_path / "chain.json"
    subprocess.run(
        [sys.executable, "benchmarks/scale_chain.py", "--smoke", "--out", str(out)],
        cwd=REPO,
        check=True,  # fails when the runs' outputs differ (one digest per run)
        capture_output=True,
        timeout=300,
    )
    records = json.loads(out.read_text())
    stages = ["transition", "risk", "zonal", "sensitivity", "economics", "total"]
    assert [(r["workers"], r["stage"]) for r in records] == [(w, s) for w in (0, 1) for s in stages]
    for r in records:
        assert CHAIN_FIELDS <= set(r), CHAIN_FIELDS - set(r)
        assert r["size_px"] == 256 and r["seconds"] > 0 and r["km2_per_s"] > 0
        assert 0 < r["peak_rss_gib"] < 2
    with_worker = [r for r in records if r["workers"] == 1 and r["stage"] == "risk"]
    assert len(with_worker[0]["rss_workers_gib"]) == 1  # the worker's memory is measured too
    totals = [r for r in records if r["stage"] == "total"]
    assert totals[0]["outputs_sha256"] == totals[1]["outputs_sha256"]
