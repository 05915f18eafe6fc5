"""Base class of every distillation loss."""
from typing import Any, Callable, List, Optional, Sequence, Tuple

from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.recorders import RecordKey


class DistillLoss(nn.Module):
    """A distillation loss: ``forward(student, teacher, ctx) -> Tensor``.

    ``student`` and ``teacher`` are what the distillation entry selected: for
    feature losses a list of ``(B, C, H, W)`` tensors, one per level, with the
    student already mapped by its adapter to the teacher's shape; for response
    losses the raw head outputs. The returned value is already multiplied by
    ``loss_weight``.

    ``student_path`` / ``teacher_path`` are the module paths of the entry the
    loss serves (set by :meth:`bind`); response losses find the heads that
    produced their inputs there.

    Subclasses list in ``required_records`` any further record keys they read
    from ``ctx`` (for example ``('bbox_head',)``); the hook records those on
    both models and runs the teacher far enough to produce them.
    """
    required_records: Sequence[str] = ()
    #: Whether the loss compares class outputs channel by channel (response KD):
    #: then no adapter maps the student (a channel mismatch is an error) and the
    #: teacher must have been trained on the student's classes.
    compares_classes: bool = False
    student_path: str = 'bbox_head'
    teacher_path: str = 'bbox_head'

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def bind(self, student: RecordKey, teacher: RecordKey, config_key: str) -> None:
        """Called once by the :class:`~mmkd.engine.Distiller` with the entry's
        record keys; subclasses that only fit some records check them here."""
        self.student_path, self.teacher_path = student.path, teacher.path

    def build_for_levels(self, channels: List[int]) -> None:
        """Build learnable per-level parts from the teacher's channels.

        The hook calls this once, with the channels its probe batch found on
        the entry's teacher levels, before the optimizer groups are added; so
        configs need not repeat channel lists. Losses without such parts
        ignore it.
        """

    def forward(self, student: Any, teacher: Any, ctx: DistillContext) -> Tensor:
        raise NotImplementedError


def checked_channels(loss: nn.Module, configured: Optional[List[int]], probed: List[int]) -> List[int]:
    """``probed``, after checking it against a configured ``in_channels``."""
    if configured is None:
        raise RuntimeError(f'{type(loss).__name__} has no in_channels: set them, or let '
                           'mmkd.DistillationHook probe them before training')
    if configured is not None and list(configured) != list(probed):
        raise ValueError(f'{type(loss).__name__} in_channels={list(configured)} but the teacher levels '
                         f'have {list(probed)} channels; drop in_channels (it is probed) or fix it')
    return list(probed)


def claim_channels(loss: nn.Module, channels: List[int]) -> bool:
    """Keep ``channels`` as ``loss.in_channels`` the first time (``True``: build the
    per-level parts now); later calls only check them against the first."""
    if loss.in_channels is not None:
        checked_channels(loss, loss.in_channels, channels)
        return False
    loss.in_channels = list(channels)
    return True


def student_teacher_blocks(make_block: Callable[[int], nn.Module],
                           channels: List[int]) -> Tuple[nn.ModuleList, nn.ModuleList]:
    """One learnable block per level for the student and one for the teacher."""
    return (nn.ModuleList(make_block(c) for c in channels), nn.ModuleList(make_block(c) for c in channels))
