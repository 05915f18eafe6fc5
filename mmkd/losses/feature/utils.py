"""Shared checks and helpers of the feature losses."""
from typing import List, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor


def align_levels(student: Sequence[Tensor], teacher: Sequence[Tensor],
                 name: str) -> Tuple[List[Tensor], List[Tensor]]:
    """Pair student and teacher levels; the student is resized to the teacher.

    Levels must agree in number, batch size and channels (the adapter maps
    the student's channels). A student level of another spatial size is
    resized bilinearly to the teacher's. Teacher levels are detached, so no
    gradient reaches the teacher. Both are returned as float32.

    Raises:
        ValueError: on a different number of levels, batch size or channels.
    """
    if len(student) != len(teacher) or not teacher:
        raise ValueError(f'{name}: the student has {len(student)} levels and the teacher '
                         f'{len(teacher)}; pair them level by level')
    aligned = []
    for index, (s, t) in enumerate(zip(student, teacher)):
        if s.shape[:2] != t.shape[:2]:
            raise ValueError(f'{name}: level {index} has student (batch, channels) '
                             f'{tuple(s.shape[:2])} and teacher {tuple(t.shape[:2])}; an adapter '
                             'must map the student to the teacher\'s channels')
        if s.shape[-2:] != t.shape[-2:]:
            s = F.interpolate(s, size=t.shape[-2:], mode='bilinear', align_corners=False)
        aligned.append(s.float())
    return aligned, [t.detach().float() for t in teacher]
