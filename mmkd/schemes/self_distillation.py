"""Self-distillation: the student teaches itself, across depth or across time."""
from typing import Optional, Sequence

from mmkd.engine.schedule import LossWeightSchedule
from mmkd.hooks import DistillationHook
from mmkd.registry import HOOKS
from mmkd.teachers import AveragedTeacher, StudentTeacher
from mmkd.teachers.averaged import SnapshotModel


@HOOKS.register_module()
class SelfDistillationHook(DistillationHook):
    """Deep-to-shallow self-distillation: :class:`DistillationHook` with a
    :class:`mmkd.teachers.StudentTeacher`.

    A deeper part of the student teaches a shallower one through the usual
    adapters; the teacher side is the student's own output, detached::

        L = L_det(S) + sum_e D_e(r_e(S_shallow), sg(S_deep))

    Entries name two student paths, e.g. ``student='backbone',
    teacher='neck'`` or ``student='neck[0]', teacher='neck[1]'`` with
    ``adapter=dict(type='mmkd.ConvAdapter', resize=True)``.

    Zhang et al., "Be Your Own Teacher: Improve the Performance of
    Convolutional Neural Networks via Self Distillation", ICCV 2019.

    Args:
        distill: entries whose ``student`` and ``teacher`` are both paths of
            the student detector.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, distill: Sequence[dict], **kwargs) -> None:
        super().__init__(teacher=StudentTeacher(), distill=distill, **kwargs)


@HOOKS.register_module()
class MeanTeacherDistillationHook(DistillationHook):
    """The student's own moving average (or snapshot) is its teacher:
    :class:`DistillationHook` with a :class:`mmkd.teachers.AveragedTeacher`.

    Costs one extra model (no gradients, no optimizer state) and one teacher
    forward per step; the average is saved under
    ``checkpoint['mmkd']['averaged']`` and resumed.

    Tarvainen & Valpola, "Mean teachers are better role models", NeurIPS
    2017; Yang et al., "Snapshot Distillation", CVPR 2019.

    A snapshot teacher distils from its first snapshot on
    (``schedule=dict(start_iter=interval)``): before it, the snapshot is the
    untrained initial student, whose outputs in eval mode (initial BN
    statistics) are no target.

    Args:
        distill: entries pairing student paths with the same (or other)
            paths of the averaged teacher.
        averaging, bn_statistics: see :class:`mmkd.teachers.AveragedTeacher`.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, distill: Sequence[dict], averaging: Optional[dict] = None, bn_statistics: str = 'running',
                 **kwargs) -> None:
        source = AveragedTeacher(averaging, bn_statistics)
        super().__init__(teacher=source, distill=distill, **kwargs)
        check_first_snapshot(source.averaging_cfg, self.schedule)


def check_first_snapshot(averaging: dict, schedule: LossWeightSchedule) -> None:
    """Refuse a snapshot teacher that would teach before its first snapshot.

    ``mmkd.SnapshotModel`` copies the student after every ``interval``-th
    iteration; until then it holds the initial weights.
    """
    if averaging.get('type') not in ('mmkd.SnapshotModel', 'SnapshotModel', SnapshotModel):
        return
    interval = averaging.get('interval', 1)
    if schedule.start_iter < interval:
        raise ValueError(f'schedule.start_iter={schedule.start_iter}: a snapshot teacher (averaging.interval='
                         f'{interval}) holds the untrained initial student until iteration {interval}; set '
                         f'schedule=dict(start_iter={interval}) so distillation starts at the first snapshot')
