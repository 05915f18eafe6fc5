"""The distillation modules of one run: entries, their adapters and losses."""
import difflib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from mmkd.context import DistillContext, exact_strides
from mmkd.engine.cross_head import CrossHead
from mmkd.losses.base import DistillLoss
from mmkd.recorders import RecordKey, parse_record_key
from mmkd.recorders.module_recorder import find_module
from mmkd.recorders.roi_branches import roi_branch
from mmkd.registry import MODELS, build_mmkd_module

AdapterCfg = Union[str, dict, None]


@dataclass
class DistillEntry:
    """One ``distill=[...]`` item: which outputs to pair and how to compare them."""
    name: str
    student: RecordKey
    teacher: RecordKey
    adapter: AdapterCfg
    config_key: str
    #: ``cross_head=k``: the student side is the teacher head run on the student's split features
    cross_head: Optional[CrossHead] = None

    @classmethod
    def from_cfg(cls, cfg: dict, position: int) -> 'DistillEntry':
        config_key = f'distill[{position}]'
        for required in ('student', 'teacher', 'loss'):
            if required not in cfg:
                raise KeyError(f'{config_key} has no "{required}": every entry needs '
                               'student=, teacher= (module paths) and loss=dict(type=...)')
        student, teacher = parse_record_key(cfg['student']), parse_record_key(cfg['teacher'])
        cross_head = CrossHead.from_cfg(cfg.get('cross_head'), config_key)
        if cross_head is not None and (student.index is not None or teacher.index is not None):
            raise ValueError(f'{config_key}: cross_head needs student= and teacher= to name whole dense heads '
                             f'(e.g. "bbox_head"), got "{student}" and "{teacher}"')
        default_name = f'{student.path.replace(".", "_")}_{position}'
        return cls(name=cfg.get('name', default_name), student=student, teacher=teacher,
                   adapter=cfg.get('adapter', 'auto'), config_key=config_key, cross_head=cross_head)


def is_feature_levels(value: Any) -> bool:
    """A tensor or a flat sequence of 4-D tensors (one per level)."""
    if isinstance(value, Tensor):
        return value.dim() == 4
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, Tensor) and v.dim() == 4 for v in value))


def as_levels(value: Any) -> List[Tensor]:
    return [value] if isinstance(value, Tensor) else list(value)


def check_registered(type_name: Any, config_key: str) -> None:
    """Refuse a ``type`` that names no module of the mmkd (or mmdet) registry.

    One line with the config key and the closest registered names, instead of
    the registry's own error deep inside the build.
    """
    if not isinstance(type_name, str):
        return  # a class object: the build checks it
    with DefaultScope.overwrite_default_scope('mmkd'):
        if MODELS.get(type_name) is not None:
            return
    names = [f'mmkd.{name}' for name in MODELS.module_dict]
    close = difflib.get_close_matches(type_name, names, n=3, cutoff=0.6)
    close += difflib.get_close_matches(f'mmkd.{type_name}', names, n=3, cutoff=0.6)
    hint = f'; did you mean {", ".join(dict.fromkeys(close))}?' if close else \
        '; mmkd\'s losses are listed in README.md (Methods)'
    raise ValueError(f'{config_key}="{type_name}" is not a registered module{hint}')


class Distiller(nn.Module):
    """Holds every entry's adapter and loss, and computes the losses.

    Its parameters (adapters, learnable parts of losses) are trained with the
    student; under DDP the hook wraps this module in
    ``DistributedDataParallel`` so they are synchronised like the student's.
    """

    def __init__(self, entry_cfgs: Sequence[dict]) -> None:
        super().__init__()
        if not entry_cfgs:
            raise ValueError('distill=[] is empty: add at least one dict(student=..., teacher=..., loss=...)')
        self.entries = [DistillEntry.from_cfg(cfg, i) for i, cfg in enumerate(entry_cfgs)]
        names = [entry.name for entry in self.entries]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f'distill entries share the name(s) {duplicated}: give each a unique name=')
        self.losses = nn.ModuleDict({
            entry.name: self._build_loss(cfg['loss'], entry) for entry, cfg in zip(self.entries, entry_cfgs)})
        self.adapters = nn.ModuleDict()
        #: ``(stride_h, stride_w)`` of each compared level, by entry name, from the probe
        self.level_strides: Dict[str, List[Tuple[int, int]]] = {}

    @staticmethod
    def _build_loss(cfg: dict, entry: DistillEntry) -> DistillLoss:
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise KeyError(f'{entry.config_key}.loss must be dict(type=..., ...), got {cfg!r}')
        check_registered(cfg['type'], f'{entry.config_key}.loss.type')
        loss = build_mmkd_module(cfg)
        if not isinstance(loss, DistillLoss):
            raise TypeError(f'{entry.config_key}.loss type "{cfg["type"]}" is not an mmkd distillation loss '
                            '(a subclass of mmkd.losses.DistillLoss)')
        # cross-head outputs come from the teacher's head (see CrossHead.loss_context)
        loss.bind(entry.teacher if entry.cross_head else entry.student, entry.teacher, entry.config_key)
        return loss

    def record_paths(self, side: str) -> List[str]:
        """Module paths to record on ``side`` (``'student'`` or ``'teacher'``)."""
        paths = {getattr(entry, side).path for entry in self.entries}
        for loss in self.losses.values():
            paths.update(loss.required_records)
        for entry in self.cross_head_entries():
            paths.update(entry.cross_head.record_keys(side))
        return sorted(paths)

    def cross_head_entries(self) -> List[DistillEntry]:
        return [entry for entry in self.entries if entry.cross_head is not None]

    def bind_cross_heads(self, student: nn.Module, teacher: nn.Module) -> None:
        """Resolve every ``cross_head`` entry's split on the two detectors' heads."""
        for entry in self.cross_head_entries():
            entry.cross_head.bind(find_module(student, entry.student.path, f'{entry.config_key}.student'),
                                  entry.student.path,
                                  find_module(teacher, entry.teacher.path, f'{entry.config_key}.teacher'),
                                  entry.teacher.path)

    def build_adapters(self, student_records: Dict[str, Any], teacher_records: Dict[str, Any],
                       input_size: Tuple[int, int]) -> List[str]:
        """Create each entry's adapter from one probe forward; returns a summary per entry."""
        summary = []
        for entry in self.entries:
            student = entry.student.select(student_records)
            teacher = entry.teacher.select(teacher_records)
            if entry.cross_head is not None:
                adapter = entry.cross_head.build_adapters(student_records, teacher_records, entry.adapter,
                                                          build_mmkd_module)
                if adapter is not None:
                    self.adapters[entry.name] = adapter
                summary.append(f'{entry.name}: teacher {entry.teacher} after {entry.cross_head.split} tower convs '
                               f'on the student\'s features (cross-head), adapters: '
                               f'{"none" if adapter is None else "1x1 per level and branch"}, '
                               f'loss: {type(self.losses[entry.name]).__name__}')
            elif is_feature_levels(student) and is_feature_levels(teacher):
                adapter = self._adapter_for(entry, as_levels(student), as_levels(teacher), input_size)
                if adapter is not None:
                    self.adapters[entry.name] = adapter
                if roi_branch(entry.teacher.path) is None:  # RoI features have no stride
                    self.level_strides[entry.name] = self._probe_strides(entry, teacher, input_size)
                self._build_loss_parts(entry, [level.shape[1] for level in as_levels(teacher)])
                summary.append(f'{entry.name}: student {entry.student} {_shapes(student)} -> teacher '
                               f'{entry.teacher} {_shapes(teacher)}, adapter: {_describe(adapter)}, '
                               f'loss: {type(self.losses[entry.name]).__name__}')
            else:
                summary.append(f'{entry.name}: student {entry.student} and teacher {entry.teacher} head outputs, '
                               f'loss: {type(self.losses[entry.name]).__name__}')
        return summary

    def _build_loss_parts(self, entry: DistillEntry, channels: List[int]) -> None:
        """The loss's learnable per-level parts, sized by the probed teacher channels."""
        loss = self.losses[entry.name]
        try:
            loss.build_for_levels(channels)
        except ValueError as error:
            raise ValueError(f'{entry.config_key}.loss: {error}') from None

    @staticmethod
    def _probe_strides(entry: DistillEntry, teacher: Any, input_size: Tuple[int, int]) -> List[Tuple[int, int]]:
        """Strides of the entry's teacher levels, exact on the probe batch.

        Every mmdet feature pyramid has strides that are powers of two; then a
        probe that is not a multiple of a level's stride shows itself by a ratio
        that does not divide or is no power of two (96 px over a stride-64 level
        of 2 cells gives 48), except on a level of one cell, which any stride at
        least the probe's size gives: the probe must be at least twice the
        largest stride.
        """
        try:
            strides = exact_strides(input_size, _sizes(teacher))
        except ValueError as error:
            raise ValueError(f'{entry.config_key}.teacher {entry.teacher}: {error}') from None
        odd = [stride for pair in strides for stride in pair if stride & (stride - 1)]
        single_cell = any(1 in size for size in _sizes(teacher))
        if odd or single_cell:
            raise ValueError(f'{entry.config_key}.teacher {entry.teacher}: the probe batch {input_size} gives '
                             f'strides {strides}; make probe_input_size a multiple of the largest stride '
                             'and at least twice it (the default 256 x 256 fits strides up to 128)')
        return strides

    def _adapter_for(self, entry: DistillEntry, student: List[Tensor], teacher: List[Tensor],
                     input_size: Tuple[int, int]) -> Optional[nn.ModuleList]:
        if len(student) != len(teacher):
            raise ValueError(f'{entry.config_key}: student {entry.student} has {len(student)} levels, '
                             f'teacher {entry.teacher} has {len(teacher)}; pick levels with "[i]"')
        loss = self.losses[entry.name]
        same_channels = all(s.shape[1] == t.shape[1] for s, t in zip(student, teacher))
        same_sizes = all(s.shape[-2:] == t.shape[-2:] for s, t in zip(student, teacher))
        if loss.compares_classes and not same_channels:
            raise ValueError(
                f'{entry.config_key}: {type(loss).__name__} compares outputs one to one, but the student '
                f'{entry.student} has {[s.shape[1] for s in student]} channels and the teacher '
                f'{entry.teacher} {[t.shape[1] for t in teacher]} (different class sets?). '
                'Use a teacher trained on the same classes.')
        cfg = entry.adapter
        if cfg == 'auto':
            if not same_sizes:
                raise ValueError(
                    f'{entry.config_key}: strides differ between student {entry.student} '
                    f'{_strides(student, input_size)} and teacher {entry.teacher} {_strides(teacher, input_size)}; '
                    'set adapter=dict(type="mmkd.ConvAdapter", resize=True) or pair levels of equal stride')
            cfg = None if same_channels else dict(type='mmkd.ConvAdapter')
        if cfg is None:
            if not (same_channels and same_sizes):
                raise ValueError(
                    f'{entry.config_key}: adapter=None but student {entry.student} {_shapes(student)} and '
                    f'teacher {entry.teacher} {_shapes(teacher)} differ; use adapter="auto" or '
                    'adapter=dict(type="mmkd.ConvAdapter", resize=True)')
            return None
        adapters = nn.ModuleList(
            build_mmkd_module(dict(cfg, in_channels=s.shape[1], out_channels=t.shape[1]))
            for s, t in zip(student, teacher))
        return adapters.to(student[0].device)

    def forward(self, ctx: DistillContext) -> Dict[str, Tensor]:
        losses = {}
        for entry in self.entries:
            student = entry.student.select(ctx.student_records)
            teacher = entry.teacher.select(ctx.teacher_records)
            entry_ctx = ctx.with_level_strides(self.level_strides.get(entry.name))
            if entry.cross_head is not None:
                adapters = self.adapters[entry.name] if entry.name in self.adapters else None
                student = entry.cross_head(ctx.student_records, adapters)
                entry_ctx = entry.cross_head.loss_context(entry_ctx)
            elif is_feature_levels(student):
                student, teacher = self._adapt(entry.name, as_levels(student), as_levels(teacher))
            losses[f'loss_{entry.name}'] = self.losses[entry.name](student, teacher, entry_ctx)
        return losses

    def _adapt(self, name: str, student: List[Tensor], teacher: List[Tensor]) -> Tuple[list, list]:
        if name not in self.adapters:
            return student, teacher
        adapted = [adapter(s, t.shape[-2:]) for adapter, s, t in zip(self.adapters[name], student, teacher)]
        return adapted, teacher


def _shapes(value: Any) -> str:
    return ', '.join(str(tuple(level.shape[1:])) for level in as_levels(value))


def _sizes(value: Any) -> List[Tuple[int, int]]:
    return [tuple(level.shape[-2:]) for level in as_levels(value)]


def _strides(levels: List[Tensor], input_size: Tuple[int, int]) -> List[float]:
    return [input_size[0] / level.shape[-2] for level in levels]


def _describe(adapter: Optional[nn.Module]) -> str:
    if adapter is None:
        return 'none'
    return f'{len(adapter)} x {type(adapter[0]).__name__}'


def trainable_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def all_finite(losses: Dict[str, Tensor]) -> bool:
    return bool(torch.isfinite(torch.stack([v.detach().float() for v in losses.values()])).all())
