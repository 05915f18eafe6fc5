"""Base class of every distillation loss."""
from typing import Any, Sequence

from torch import Tensor, nn

from mmkd.context import DistillContext


class DistillLoss(nn.Module):
    """A distillation loss: ``forward(student, teacher, ctx) -> Tensor``.

    ``student`` and ``teacher`` are what the distillation entry selected: for
    feature losses a list of ``(B, C, H, W)`` tensors, one per level, with the
    student already mapped by its adapter to the teacher's shape; for response
    losses the raw head outputs. The returned value is already multiplied by
    ``loss_weight``.

    Subclasses list in ``required_records`` any further record keys they read
    from ``ctx`` (for example ``('bbox_head',)``); the hook records those on
    both models and runs the teacher far enough to produce them.
    """
    required_records: Sequence[str] = ()
    #: Whether a feature adapter may map the student onto the teacher's shape.
    #: Response losses set it to False: a class-count mismatch is an error.
    adapts_student: bool = True

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, student: Any, teacher: Any, ctx: DistillContext) -> Tensor:
        raise NotImplementedError
