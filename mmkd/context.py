"""What a distillation loss or mask sees about the current training step."""
import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


@dataclass
class PaddedGroundTruth:
    """Ground-truth boxes of a batch padded to the largest image's count.

    Attributes:
        bboxes: ``(B, M, 4)`` boxes as ``x1, y1, x2, y2`` in input pixels.
        labels: ``(B, M)`` class indices (``-1`` on padding).
        valid: ``(B, M)`` True where a real box sits.
    """
    bboxes: Tensor
    labels: Tensor
    valid: Tensor


def pad_ground_truth(data_samples: Sequence[Any], device: torch.device) -> PaddedGroundTruth:
    """Stack each sample's ``gt_instances`` into padded ``(B, M, ...)`` tensors."""
    per_image = [sample.gt_instances for sample in data_samples]
    counts = [len(instances) for instances in per_image]
    batch, most = len(per_image), max(counts, default=0)
    bboxes = torch.zeros(batch, most, 4, device=device)
    labels = torch.full((batch, most), -1, dtype=torch.long, device=device)
    valid = torch.zeros(batch, most, dtype=torch.bool, device=device)
    if most:
        rows = torch.repeat_interleave(torch.arange(batch, device=device),
                                       torch.tensor(counts, device=device))
        cols = torch.cat([torch.arange(n, device=device) for n in counts])
        bboxes[rows, cols] = torch.cat([_tensor_boxes(i.bboxes) for i in per_image]).to(device).float()
        labels[rows, cols] = torch.cat([i.labels for i in per_image]).to(device)
        valid[rows, cols] = True
    return PaddedGroundTruth(bboxes, labels, valid)


def _tensor_boxes(bboxes: Any) -> Tensor:
    return bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes


@dataclass
class DistillContext:
    """One training step as the distillation losses and masks see it.

    Attributes:
        inputs: ``(B, 3, H, W)`` batch the student saw (after the data
            preprocessor and batch augments).
        data_samples: the batch's ``DetDataSample`` list (``gt_instances``,
            ``metainfo``).
        student: the student detector (not wrapped by DDP).
        teacher: the frozen teacher detector.
        student_records: recorded outputs of the student, by record key
            (a module path such as ``'neck'`` or ``'bbox_head'``).
        teacher_records: the same for the teacher, computed without grad.
        level_strides: ``(stride_h, stride_w)`` of each feature level the
            current entry compares, measured on the probe batch (see
            :meth:`strides`); ``None`` outside an entry.
    """
    inputs: Tensor
    data_samples: List[Any]
    student: nn.Module
    teacher: nn.Module
    student_records: Dict[str, Any] = field(default_factory=dict)
    teacher_records: Dict[str, Any] = field(default_factory=dict)
    level_strides: Optional[Sequence[Tuple[int, int]]] = None

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def input_size(self) -> Tuple[int, int]:
        """``(H, W)`` of the padded input batch."""
        return tuple(self.inputs.shape[-2:])

    @cached_property
    def ground_truth(self) -> PaddedGroundTruth:
        return pad_ground_truth(self.data_samples, self.inputs.device)

    def with_level_strides(self, level_strides: Optional[Sequence[Tuple[int, int]]]) -> 'DistillContext':
        """A view of this step for one entry whose levels have ``level_strides``.

        Shares everything already computed (the padded ground truth included).
        """
        view = copy.copy(self)
        view.level_strides = level_strides
        return view

    def strides(self, level_sizes: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """``(stride_h, stride_w)`` of each feature level relative to the input.

        The strides the hook measured for the entry when they are known. A
        level's size alone does not give its stride: a 224 px side gives a
        stride-128 level of 2 cells (convolutions round up), not 1.75. So
        without measured strides the input must divide exactly into every
        level, else this raises rather than misplace every mask.
        """
        if self.level_strides is not None and len(self.level_strides) == len(level_sizes):
            return list(self.level_strides)
        return exact_strides(self.input_size, level_sizes)


def exact_strides(input_size: Sequence[int], level_sizes: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """``input_size / level_size`` per level, refusing sizes that do not divide.

    Valid on an input that is a multiple of the largest stride, such as the
    hook's probe batch (``probe_input_size``).
    """
    height, width = input_size
    strides = []
    for h, w in level_sizes:
        if height % h or width % w:
            raise ValueError(
                f'cannot tell the stride of a {h}x{w} feature level from a {height}x{width} input: '
                'the input is not a multiple of that level\'s stride. Make probe_input_size a '
                'multiple of the largest stride.')
        strides.append((height // h, width // w))
    return strides
