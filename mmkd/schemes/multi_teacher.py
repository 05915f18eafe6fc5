"""Several frozen teachers teach one student: weighted, confidence-based or bandit-selected."""
from typing import Optional, Sequence

from mmkd.hooks import DistillationHook
from mmkd.registry import HOOKS
from mmkd.teachers import TeacherEnsemble


@HOOKS.register_module()
class MultiTeacherDistillationHook(DistillationHook):
    """Distil several frozen teachers into one student: :class:`DistillationHook`
    with a :class:`mmkd.teachers.TeacherEnsemble`.

    Costs ``K`` frozen teachers in memory and ``K`` (or ``num_select``)
    teacher forwards per step.

    You et al., "Learning from Multiple Teacher Networks", KDD 2017; Zhang et
    al., "Confidence-Aware Multi-Teacher Knowledge Distillation", ICASSP 2022.

    Args:
        teachers, combine, weighting, selector, reward, reward_scale: see
            :class:`mmkd.teachers.TeacherEnsemble`.
        distill: entries as for :class:`DistillationHook`; ``teacher=`` paths
            are looked up in every teacher.
        **kwargs: the other arguments of :class:`DistillationHook`;
            ``evaluate_teacher=True`` evaluates every teacher.
    """

    def __init__(self, teachers: Sequence[dict], distill: Sequence[dict], combine: str = 'loss',
                 weighting: Optional[dict] = None, selector: Optional[dict] = None, reward: str = 'heldout',
                 reward_scale: float = 0.01, **kwargs) -> None:
        source = TeacherEnsemble(teachers, distill, combine, weighting, selector, reward, reward_scale)
        super().__init__(teacher=source, distill=distill, **kwargs)
