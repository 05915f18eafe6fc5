"""Cross-head distillation: the teacher's head finishes the student's head features.

J. Wang et al., "CrossKD: Cross-Head Knowledge Distillation for Object
Detection", CVPR 2024. An entry with ``cross_head=k`` records the student's
classification and regression tower features after ``k`` convolutions, runs
the frozen teacher head's remaining convolutions and predictors on them
(gradients flow back to the student's features, never into the teacher), and
hands these cross-head predictions to the entry's response loss as the
student side, with the teacher's own head outputs as the teacher side.
"""
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

import torch
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.head_outputs.head_remainder import BRANCHES, run_remainder, split_paths, stacked_convs
from mmkd.recorders import inputs_key


@dataclass
class CrossHead:
    """The ``cross_head=k`` part of a distillation entry.

    ``k`` is the number of the student's tower convolutions before the split
    (CrossKD's ``reused_teacher_head_idx``): the teacher head runs its
    convolutions ``k..n-1`` and its predictors; ``k = 0`` feeds it the
    head's input, ``k = n`` only its predictors.
    """
    split: int
    config_key: str
    keys: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)
    teacher_head: Optional[nn.Module] = field(default=None, repr=False)
    teacher_path: str = ''

    @classmethod
    def from_cfg(cls, value: Any, config_key: str) -> Optional['CrossHead']:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f'{config_key}.cross_head must be the number of student tower convolutions '
                             f'before the teacher head takes over (an int >= 0), got {value!r}')
        return cls(value, f'{config_key}.cross_head')

    def bind(self, student_head: nn.Module, student_path: str, teacher_head: nn.Module, teacher_path: str) -> None:
        """Check the split against both heads and resolve its record keys."""
        for side, head, path in (('student', student_head, student_path), ('teacher', teacher_head, teacher_path)):
            try:
                convs = stacked_convs(head)
            except TypeError as error:
                raise TypeError(f'{self.config_key}: {error}') from None
            if self.split > convs:
                raise ValueError(f'{self.config_key}={self.split} but the {side} {type(head).__name__} has '
                                 f'{convs} convolutions per tower')
            self.keys[side] = {branch: [inputs_key(f'{path}.{module}')
                                        for module in split_paths(head, self.split, branch)]
                               for branch in BRANCHES}
        self.teacher_head, self.teacher_path = teacher_head, teacher_path

    def record_keys(self, side: str) -> List[str]:
        """Record keys of the split features on ``side`` (after :meth:`bind`)."""
        return [key for branch in BRANCHES for key in self.keys[side][branch]]

    def features(self, records: Dict[str, Any], side: str) -> Dict[str, List[Tensor]]:
        """``{'cls': [...], 'reg': [...]}``: ``side``'s per-level split features."""
        return {branch: [t for key in self.keys[side][branch] for t in records[key]] for branch in BRANCHES}

    def build_adapters(self, student_records: Dict[str, Any], teacher_records: Dict[str, Any],
                       adapter: Union[str, dict, None],
                       build: Callable[[dict], nn.Module]) -> Optional[nn.ModuleDict]:
        """Adapters from the student's split widths to the teacher's, from the probe.

        ``adapter='auto'`` adds a 1x1 ``mmkd.ConvAdapter`` per level and branch
        where the widths differ, a dict always builds that adapter, ``None``
        refuses different widths; ``build`` builds an adapter config. Also checks, on the probe, that the teacher
        head's remainder reproduces its own outputs from its own features.
        """
        student, teacher = self.features(student_records, 'student'), self.features(teacher_records, 'teacher')
        self._check_reproduces(teacher, teacher_records)
        pairs = [(s, t) for branch in BRANCHES for s, t in zip(student[branch], teacher[branch])]
        if any(s.shape[-2:] != t.shape[-2:] for s, t in pairs):
            raise ValueError(f'{self.config_key}: the student and teacher split features have different sizes '
                             f'({_shapes(student)} vs {_shapes(teacher)}); cross-head KD needs the same strides')
        same = all(s.shape[1] == t.shape[1] for s, t in pairs)
        if adapter is None or (adapter == 'auto' and same):
            if not same:
                raise ValueError(f'{self.config_key}={self.split}: the student head features at the split have '
                                 f'{_channels(student)} channels but the teacher head expects {_channels(teacher)}; '
                                 'set adapter=\'auto\' or adapter=dict(type=\'mmkd.ConvAdapter\')')
            return None
        cfg = dict(type='mmkd.ConvAdapter') if adapter == 'auto' else adapter
        return nn.ModuleDict({
            branch: nn.ModuleList(build(dict(cfg, in_channels=s.shape[1], out_channels=t.shape[1]))
                                  for s, t in zip(student[branch], teacher[branch]))
            for branch in BRANCHES}).to(pairs[0][0].device)

    def __call__(self, student_records: Dict[str, Any], adapters: Optional[nn.ModuleDict]) -> tuple:
        """The teacher head's outputs on the student's split features."""
        features = self.features(student_records, 'student')
        if adapters is not None:
            features = {branch: [adapt(f) for adapt, f in zip(adapters[branch], levels)]
                        for branch, levels in features.items()}
        return run_remainder(self.teacher_head, self.split, features['cls'], features['reg'])

    @staticmethod
    def loss_context(ctx: DistillContext) -> DistillContext:
        """The loss parses the cross-head outputs with the head that made them:
        a view of ``ctx`` whose ``student`` is the teacher detector."""
        view = copy.copy(ctx)
        view.student = ctx.teacher
        return view

    def _check_reproduces(self, teacher: Dict[str, List[Tensor]], teacher_records: Dict[str, Any]) -> None:
        """Refuse a head subclass whose own forward the family's remainder does not follow."""
        with torch.no_grad():
            rerun = run_remainder(self.teacher_head, self.split, teacher['cls'], teacher['reg'])
        own = teacher_records[self.teacher_path]
        if len(rerun) != len(own) or not all(
                torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5)
                for rerun_kind, own_kind in zip(rerun, own) for a, b in zip(rerun_kind, own_kind)):
            raise ValueError(f'{self.config_key}: running the teacher {type(self.teacher_head).__name__} from '
                             'the split does not reproduce its forward (a subclass with its own forward?)')


def _channels(features: Dict[str, List[Tensor]]) -> Dict[str, List[int]]:
    return {branch: [level.shape[1] for level in levels] for branch, levels in features.items()}


def _shapes(features: Dict[str, List[Tensor]]) -> Dict[str, List[tuple]]:
    return {branch: [tuple(level.shape[1:]) for level in levels] for branch, levels in features.items()}
