"""Faster equivalents of slow modules, with the same parameters (checkpoints load unchanged).

Prithvi's patch embedding is a ``Conv3d`` with kernel and stride ``(1, p, p)``.
Under CUDA mixed precision (bf16/fp16 autocast) PyTorch runs that layer on a slow
fallback kernel (``slow_conv_dilated3d``, about 1,000x slower than cuDNN for
Prithvi-300's embedding). With a temporal kernel of 1, the convolution is a 2-D
convolution of every frame: :class:`FrameWiseConv3d` computes exactly that with
``conv2d`` (fast cuDNN kernels in every precision). It keeps the ``Conv3d``'s
``weight`` (``(out, in, 1, p, p)``) and ``bias``, so ``state_dict`` keys and
shapes, pretrained checkpoints and saved models are unchanged.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)


class FrameWiseConv3d(nn.Conv3d):
    """A ``Conv3d`` with temporal kernel, stride and dilation 1 and no temporal padding,
    computed as a ``conv2d`` over the frames folded into the batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same result as ``Conv3d.forward`` (up to float rounding)."""
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        y = F.conv2d(
            frames,
            self.weight[:, :, 0],
            self.bias,
            stride=self.stride[1:],
            padding=self.padding[1:],
            dilation=self.dilation[1:],
            groups=self.groups,
        )
        return y.reshape(b, t, *y.shape[1:]).transpose(1, 2)


def _frame_wise(conv: nn.Conv3d) -> bool:
    return (
        conv.kernel_size[0] == 1
        and conv.stride[0] == 1
        and conv.dilation[0] == 1
        and conv.padding[0] == 0
        and conv.padding_mode == "zeros"
        and isinstance(conv.padding, tuple)
    )


def use_fast_paths(model: nn.Module) -> int:
    """Switch every frame-wise ``Conv3d`` of ``model`` to :class:`FrameWiseConv3d`, in place.

    Returns:
        How many layers were switched (parameters, buffers and hooks are kept).
    """
    n = 0
    for module in model.modules():
        if type(module) is nn.Conv3d and _frame_wise(module):
            module.__class__ = FrameWiseConv3d
            n += 1
    if n:
        logger.debug("%d frame-wise Conv3d layer(s) run as conv2d", n)
    return n
