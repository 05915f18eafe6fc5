"""Pairwise distances and RoI levels shared by the relation losses."""
from typing import Tuple

import torch
from torch import Tensor


def pairwise_distances(embeddings: Tensor) -> Tensor:
    """``(G, M, M)`` Euclidean distances within each group of ``(G, M, D)`` embeddings.

    Computed from the Gram matrix and clamped before the square root, so the
    gradient stays finite on the zero diagonal.
    """
    squared = embeddings.pow(2).sum(-1)
    gram = embeddings @ embeddings.transpose(1, 2)
    return (squared[:, :, None] + squared[:, None, :] - 2 * gram).clamp(min=1e-12).sqrt()


def normalised_distances(embeddings: Tensor, valid: Tensor) -> Tuple[Tensor, Tensor]:
    """RKD distance potential ``psi(i, j) = ||f_i - f_j|| / mu`` per group.

    ``mu`` is the mean distance over the valid pairs ``i != j`` of the group.

    Returns:
        ``(psi, pairs)``: ``(G, M, M)`` normalised distances and the mask of
        valid pairs.
    """
    distances = pairwise_distances(embeddings)
    eye = torch.eye(valid.shape[1], dtype=torch.bool, device=valid.device)
    pairs = valid[:, :, None] & valid[:, None, :] & ~eye
    mean = (distances * pairs).sum((1, 2)) / pairs.sum((1, 2)).clamp(min=1)
    return distances / mean.clamp(min=1e-12)[:, None, None], pairs


def roi_levels(boxes: Tensor, num_levels: int, finest_scale: float) -> Tensor:
    """FPN level of each ``(N, 4)`` box: ``floor(log2(sqrt(wh) / finest_scale))``, clamped.

    The rule of mmdet's ``SingleRoIExtractor.map_roi_levels``.
    """
    scale = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=0).sqrt()
    return torch.floor(torch.log2(scale / finest_scale + 1e-6)).clamp(0, num_levels - 1).long()
