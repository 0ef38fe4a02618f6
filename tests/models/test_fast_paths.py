"""Prithvi's patch embedding as conv2d: the same outputs and the same checkpoint keys."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cocoa_threat.models.fast_paths import FrameWiseConv3d, use_fast_paths

BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]


@pytest.mark.parametrize("frames", [1, 3])
def test_frame_wise_conv3d_equals_conv3d(frames: int) -> None:
    torch.manual_seed(0)
    conv = nn.Conv3d(6, 32, kernel_size=(1, 16, 16), stride=(1, 16, 16))
    x = torch.randn(2, 6, frames, 64, 48)
    expected = conv(x)
    assert use_fast_paths(conv) == 1 and type(conv) is FrameWiseConv3d
    got = conv(x)
    assert got.shape == expected.shape == (2, 32, frames, 4, 3)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_other_conv3d_are_left_alone() -> None:
    temporal = nn.Sequential(nn.Conv3d(3, 4, kernel_size=(2, 3, 3)), nn.Conv3d(4, 4, 1, padding=1))
    assert use_fast_paths(temporal) == 0
    assert all(type(m) is nn.Conv3d for m in temporal)


def test_prithvi_keeps_its_keys_and_outputs() -> None:
    from terratorch.registry import BACKBONE_REGISTRY

    torch.manual_seed(1)
    original = BACKBONE_REGISTRY.build(
        "prithvi_eo_tiny", pretrained=False, bands=BANDS, num_frames=1
    )
    original.eval()
    state = {k: v.clone() for k, v in original.state_dict().items()}
    x = torch.randn(2, 6, 64, 64)
    with torch.no_grad():
        expected = original(x)

    fast = BACKBONE_REGISTRY.build("prithvi_eo_tiny", pretrained=False, bands=BANDS, num_frames=1)
    assert use_fast_paths(fast) == 1
    assert type(fast.patch_embed.proj) is FrameWiseConv3d
    assert fast.state_dict().keys() == state.keys()  # a pretrained checkpoint loads unchanged
    fast.load_state_dict(state, strict=True)
    fast.eval()
    with torch.no_grad():
        got = fast(x)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_project_models_are_built_with_the_fast_path(tmp_path) -> None:  # noqa: ANN001
    from cocoa_threat.models.terratorch_build import architecture_args, build_model
    from cocoa_threat.params.training import parse_model_params
    from tests.conftest import load_project_conf

    block = load_project_conf(tmp_path).params["prithvi"]["model"]
    block["model_args"]["decoder_channels"] = 16
    spec = parse_model_params(block, "prithvi.model")
    model = build_model(spec.model_factory, architecture_args(spec, 3, BANDS))
    assert any(type(m) is FrameWiseConv3d for m in model.modules())
