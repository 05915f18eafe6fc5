"""Several frozen teachers teach one student: weighted, confidence-based or bandit-selected."""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import Distiller, build_mmkd_module, trainable_parameters
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.teacher import TeacherInputConverter, build_frozen_detector, run_detector
from mmkd.hooks import DistillationHook
from mmkd.recorders import ModuleRecorder
from mmkd.recorders.module_recorder import find_module
from mmkd.registry import HOOKS
from .bandits import TeacherSelector, improvement_reward
from .teacher_weighting import TeacherWeighting
from .utils import eval_mode, unwrap


@dataclass
class TeacherSlot:
    """One frozen teacher with its recorder and input conversion."""
    name: str
    model: nn.Module
    recorder: ModuleRecorder
    convert_inputs: TeacherInputConverter

    def records(self, inputs: Tensor, data_samples: Optional[list]) -> Dict[str, Any]:
        """The teacher's records on the student's batch, without gradients."""
        with torch.no_grad(), self.recorder.capture() as records:
            run_detector(self.model, self.convert_inputs(inputs), self.recorder.modules, data_samples)
        return records


@HOOKS.register_module()
class MultiTeacherDistillationHook(DistillationHook):
    """Distil several frozen teachers (any mmdet architectures) into one student.

    Every ``distill`` entry pairs a student path with the same path in each
    teacher. Teachers are combined with weights ``w[k, b]`` (teacher ``k``,
    image ``b``) from ``weighting``:

    - ``combine='loss'``: ``L_e = sum_k wbar_k L_e(r_k(S), T_k)``, with
      ``wbar_k = mean_b w[k, b]``; each teacher has its own adapters, so
      teachers of different widths and architectures mix freely.
    - ``combine='target'``: ``L_e = L_e(r(S), sum_k w[k, b] T_k[b])``: one
      ensemble target per image, for outputs of the same shape in every
      teacher (response entries; features of equal width). Per-image weights
      (:class:`ConfidenceTeacherWeights`) act fully only here.

    With a ``selector`` (a bandit, :class:`EXP3TeacherSelector` or
    :class:`UCBTeacherSelector`) only the picked teachers run and teach each
    step (weights renormalised over them); the pick is rewarded by the
    student's improvement (:func:`improvement_reward`), measured as:

    - ``reward='heldout'``: the decrease of the student's detection loss on a
      fixed batch of the val set across the step's update: one extra forward
      of the student (eval mode, no gradients) per iteration.
    - ``reward='next_step'``: the decrease of the student's detection loss from
      this training batch to the next; free, but noisy (different batches).

    Teacher weights are logged as ``w_<name>``; distillation modules, learned
    weights and the selector's state are saved under ``checkpoint['mmkd']``.
    Costs: ``K`` frozen teachers in memory, and ``K`` (or ``num_select``)
    teacher forwards per step.

    You et al., "Learning from Multiple Teacher Networks", KDD 2017; Zhang et
    al., "Confidence-Aware Multi-Teacher Knowledge Distillation", ICASSP 2022.

    Args:
        teachers: ``[dict(config=..., checkpoint=..., name='l'), ...]``.
        distill: entries as for :class:`DistillationHook`; ``teacher=`` paths
            are looked up in every teacher.
        combine: ``'loss'`` or ``'target'``.
        weighting: a :class:`TeacherWeighting` config; default uniform
            :class:`FixedTeacherWeights`.
        selector: a :class:`TeacherSelector` config, or ``None`` (all teach).
        reward: ``'heldout'`` or ``'next_step'`` (with a selector).
        reward_scale: relative loss decrease that earns a reward of 0.73.
        **kwargs: the other arguments of :class:`DistillationHook`;
            ``evaluate_teacher=True`` evaluates every teacher.
    """

    def __init__(self, teachers: Sequence[dict], distill: Sequence[dict], combine: str = 'loss',
                 weighting: Optional[dict] = None, selector: Optional[dict] = None, reward: str = 'heldout',
                 reward_scale: float = 0.01, evaluate_teacher: bool = False, **kwargs) -> None:
        if not isinstance(teachers, (list, tuple)) or len(teachers) < 2:
            raise ValueError('teachers must list at least two dict(config=..., checkpoint=...)')
        if combine not in ('loss', 'target'):
            raise ValueError(f'combine must be "loss" or "target", got "{combine}"')
        if reward not in ('heldout', 'next_step'):
            raise ValueError(f'reward must be "heldout" or "next_step", got "{reward}"')
        super().__init__(teacher=teachers[0], distill=distill, **kwargs)
        self.teacher_cfgs = [self._checked_teacher_cfg(cfg) for cfg in teachers]
        self.names = [cfg.get('name', f'teacher{i}') for i, cfg in enumerate(teachers)]
        if len(set(self.names)) != len(self.names):
            raise ValueError(f'teachers share a name: {self.names}')
        self.combine = combine
        num_distillers = len(teachers) if combine == 'loss' else 1
        self.distillers = nn.ModuleList([self.distiller] + [Distiller(distill) for _ in range(num_distillers - 1)])
        self.weighting = self._build(weighting or dict(type='mmkd.FixedTeacherWeights'), TeacherWeighting)
        if combine == 'target' and self.weighting.needs_teacher_losses:
            raise ValueError(f'{type(self.weighting).__name__} learns from each teacher\'s loss: '
                             'use combine="loss"')
        self.selector = self._build(selector, TeacherSelector) if selector else None
        self.reward = reward
        self.reward_scale = reward_scale
        self.evaluate_teachers = evaluate_teacher
        self._chosen: Optional[Tensor] = None
        self._previous_choice: Optional[Tensor] = None
        self._last_measure: Optional[float] = None
        self._detection_loss: Optional[float] = None

    def _build(self, cfg: dict, base: type) -> nn.Module:
        module = build_mmkd_module(dict(cfg, num_teachers=len(self.teacher_cfgs)))
        if not isinstance(module, base):
            raise TypeError(f'"{cfg["type"]}" is not a {base.__name__}')
        return module

    # ------------------------------------------------------------------ set-up
    def set_up(self, runner) -> None:
        student = unwrap(runner.model)
        device = next(student.parameters()).device
        self.slots = [self._build_slot(runner, student, index, device) for index in range(len(self.teacher_cfgs))]
        self.teacher, self.teacher_recorder = self.slots[0].model, self.slots[0].recorder
        self.convert_inputs = self.slots[0].convert_inputs
        self.student_recorder = ModuleRecorder(student, self.student_record_paths(), 'distill[].student')
        summary = self._probe_and_build_adapters(student, device)
        self.distillers.to(device)
        self.weighting.to(device)
        self._distiller_calls = [self.train_with_student(runner, distiller) for distiller in self.distillers]
        self._distiller_call = self._distiller_calls[0]
        self._weighting_call = self.train_with_student(runner, self.weighting)
        n_trainable = trainable_parameters(self.distillers) + trainable_parameters(self.weighting)
        runner.logger.info(f'mmkd: {self.describe_teacher()}; distillation modules: {n_trainable} trainable '
                           'params\n  ' + '\n  '.join(summary))

    def _build_slot(self, runner, student: nn.Module, index: int, device: torch.device) -> TeacherSlot:
        cfg, key = self.teacher_cfgs[index], f'teachers[{index}]'
        teacher, _, meta = build_frozen_detector(cfg['config'], cfg.get('checkpoint'), key, device)
        self._check_record_paths(student, teacher)
        self._check_class_sets(student, meta, runner, teacher)
        for path in self.weighting.required_records:
            find_module(teacher, path, f'{type(self.weighting).__name__} needs {key} module')
        recorder = ModuleRecorder(teacher, self.teacher_record_paths(), f'{key}: distill[].teacher')
        converter = TeacherInputConverter(student.data_preprocessor, teacher.data_preprocessor)
        return TeacherSlot(self.names[index], teacher, recorder, converter)

    def teacher_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('teacher'), *self.weighting.required_records})

    def describe_teacher(self) -> str:
        teachers = ', '.join(f'{slot.name}={cfg["config"]} ({sum(p.numel() for p in slot.model.parameters()) / 1e6:.2f}'
                             ' M params)' for slot, cfg in zip(self.slots, self.teacher_cfgs))
        selector = type(self.selector).__name__ if self.selector else 'none'
        return (f'{len(self.slots)} frozen teachers [{teachers}], combine={self.combine}, '
                f'weighting={type(self.weighting).__name__}, selector={selector}')

    def _probe_and_build_adapters(self, student: nn.Module, device: torch.device) -> List[str]:
        probe = torch.zeros(2, 3, *self.probe_input_size, device=device)
        with eval_mode(student), torch.no_grad():
            student_records = self._record(self.student_recorder, student, probe)
            teacher_records = [slot.records(probe, None) for slot in self.slots]
        size = self.probe_input_size
        if self.combine == 'target':
            self._check_same_shapes(teacher_records)
            return self.distiller.build_adapters(student_records, teacher_records[0], size)
        return [f'{slot.name}: {line}' for slot, distiller, records in zip(self.slots, self.distillers, teacher_records)
                for line in distiller.build_adapters(student_records, records, size)]

    def _check_same_shapes(self, teacher_records: List[Dict[str, Any]]) -> None:
        for path in self.distiller.record_paths('teacher'):
            shapes = [_shapes(records[path]) for records in teacher_records]
            if any(shape != shapes[0] for shape in shapes):
                raise ValueError(f'combine="target" averages the teachers\' "{path}" outputs, but their shapes '
                                 f'differ: {dict(zip(self.names, shapes))}; use combine="loss" (one adapter per '
                                 'teacher) or distil outputs of equal shape')

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.evaluate_teachers and runner.val_loop is not None:
            for slot in self.slots:
                metrics = evaluate_detector(slot.model, runner.val_dataloader, runner.val_evaluator)
                runner.logger.info(f'mmkd: teacher {slot.name} on the val set: {metrics}')
        if self.selector is not None and self.reward == 'heldout':
            self._heldout = unwrap(runner.model).data_preprocessor(next(iter(runner.val_dataloader)), False)
            self._last_measure = self._heldout_loss(runner)

    def after_train(self, runner) -> None:
        super().after_train(runner)
        for slot in self.slots:
            slot.recorder.detach()

    # ---------------------------------------------------------------- training
    def distillation_losses(self, student: nn.Module, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """Active teachers' records, their weights, and the combined losses."""
        active = self.selector.select() if self.selector is not None else torch.ones(len(self.slots), dtype=torch.bool)
        self._chosen = active
        records = [slot.records(inputs, data_samples) if on else None for slot, on in zip(self.slots, active.tolist())]
        first = int(active.nonzero()[0])
        ctx = DistillContext(inputs=inputs, data_samples=data_samples, student=student,
                             teacher=self.slots[first].model, student_records=self.student_recorder.records)
        with self._sync_context(self._weighting_call):
            weights = self._weighting_call(records, [slot.model for slot in self.slots], active, ctx)
        self._log_weights(weights)
        if self.combine == 'target':
            ctx.teacher_records = _weighted_records(records, weights.detach(), self.distiller.record_paths('teacher'))
            losses, teacher_losses = self._call(self._distiller_call, ctx), None
        else:
            losses, teacher_losses = self._combined_losses(ctx, records, weights.detach().mean(dim=1))
        losses.update(self.weighting.extra_losses(weights, teacher_losses))
        return losses

    def _combined_losses(self, ctx: DistillContext, records: List[Optional[dict]],
                         weights: Tensor) -> Tuple[Dict[str, Tensor], Tensor]:
        """``sum_k w_k L_e(S, T_k)`` over the active teachers for every entry ``e``,
        and each teacher's total ``sum_e L_e(S, T_k)`` (0 when inactive)."""
        total: Dict[str, Tensor] = {}
        teacher_losses = weights.new_zeros(len(self.slots))
        for index, (slot, call) in enumerate(zip(self.slots, self._distiller_calls)):
            if records[index] is None:
                continue
            ctx.teacher, ctx.teacher_records = slot.model, records[index]
            losses = self._call(call, ctx)
            teacher_losses[index] = sum(value.detach() for value in losses.values())
            for key, value in losses.items():
                total[key] = total.get(key, 0) + weights[index] * value
        return total, teacher_losses

    def _call(self, distiller_call: Callable, ctx: DistillContext) -> Dict[str, Tensor]:
        with self._sync_context(distiller_call):
            return distiller_call(ctx)

    def _log_weights(self, weights: Tensor) -> None:
        for name, weight in zip(self.names, weights.detach().mean(dim=1).tolist()):
            self._runner.message_hub.update_scalar(f'train/w_{name}', weight)

    def _after_student_forward(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
        if self._distilling and self.selector is not None and self.reward == 'next_step':
            self._detection_loss = _mean_over_ranks(module.parse_losses(output)[0])
        return super()._after_student_forward(module, args, kwargs, output)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        """Reward the selector with the student's improvement."""
        if self.selector is None or self._chosen is None:
            return
        if self.reward == 'heldout':
            measure, rewarded = self._heldout_loss(runner), self._chosen
        else:
            measure, rewarded, self._previous_choice = self._detection_loss, self._previous_choice, self._chosen
        if rewarded is not None and self._last_measure is not None:
            self.selector.update(rewarded, improvement_reward(self._last_measure, measure, self.reward_scale))
        self._last_measure, self._chosen = measure, None

    def _heldout_loss(self, runner) -> float:
        """The student's detection loss on the held-out batch (eval mode, no gradients)."""
        student = unwrap(runner.model)
        with eval_mode(student), torch.no_grad():
            losses = student.loss(self._heldout['inputs'], self._heldout['data_samples'])
        return _mean_over_ranks(student.parse_losses(losses)[0])

    # ------------------------------------------------------------- checkpoints
    def checkpoint_state(self) -> Dict[str, Any]:
        state = dict(distiller=weights_to_cpu(self.distillers.state_dict()),
                     weighting=weights_to_cpu(self.weighting.state_dict()),
                     teachers=[dict(cfg) for cfg in self.teacher_cfgs])
        if self.selector is not None:
            state['selector'] = self.selector.state_dict()
        return state

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        self.distillers.load_state_dict(state['distiller'])
        self.weighting.load_state_dict(state['weighting'])
        if self.selector is not None:
            self.selector.load_state_dict(state['selector'])


def _weighted_records(records: List[Optional[dict]], weights: Tensor, paths: Sequence[str]) -> Dict[str, Any]:
    """Per-image weighted sum of the active teachers' records at ``paths``."""
    active = [index for index, value in enumerate(records) if value is not None]
    return {path: _weighted_sum([records[index][path] for index in active], weights[active]) for path in paths}


def _weighted_sum(values: List[Any], weights: Tensor) -> Any:
    """``sum_k weights[k, b] * values[k][b]`` through matching nested structures."""
    first = values[0]
    if isinstance(first, Tensor):
        stacked = torch.stack(values)
        return (stacked * weights.to(stacked).view(*weights.shape, *[1] * (first.dim() - 1))).sum(dim=0)
    if isinstance(first, (list, tuple)):
        return type(first)(_weighted_sum(list(items), weights) for items in zip(*values))
    if isinstance(first, dict):
        return {key: _weighted_sum([value[key] for value in values], weights) for key in first}
    return first


def _shapes(value: Any) -> Tuple:
    """Shapes of every tensor in a nested record, in order."""
    if isinstance(value, Tensor):
        return (tuple(value.shape), )
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return tuple(shape for item in value for shape in _shapes(item))
    return ()


def _mean_over_ranks(loss: Tensor) -> float:
    """One loss value, averaged over ranks so every rank rewards its selector alike."""
    loss = loss.detach().float().clone()
    all_reduce(loss, op='mean')
    return float(loss)
