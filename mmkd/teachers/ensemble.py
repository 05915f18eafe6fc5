"""Several teachers at once: weighted, confidence-based or bandit-selected."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import Distiller
from mmkd.registry import TEACHERS, build_mmkd_module
from mmkd.utils.modules import eval_mode, unwrap

from .bandits import TeacherSelector, improvement_reward
from .base import DistillStep, TeacherSource, build_teacher_source
from .weighting import TeacherWeighting


@TEACHERS.register_module()
class TeacherEnsemble(TeacherSource):
    """Several frozen teachers (any mmdet architectures) teach one student.

    Every ``distill`` entry pairs a student path with the same path in each
    teacher. Teachers are combined with weights ``w[k, b]`` (teacher ``k``,
    image ``b``) from ``weighting``:

    - ``combine='loss'``: ``L_e = sum_k wbar_k L_e(r_k(S), T_k)``, with
      ``wbar_k = mean_b w[k, b]``; each teacher has its own adapters, so
      teachers of different widths and architectures mix freely.
    - ``combine='target'``: ``L_e = L_e(r(S), sum_k w[k, b] T_k[b])``: one
      ensemble target per image, for outputs of the same shape in every
      teacher. Per-image weights (:class:`ConfidenceTeacherWeights`) act
      fully only here.

    With a ``selector`` (:class:`EXP3TeacherSelector`,
    :class:`UCBTeacherSelector`) only the picked teachers run and teach each
    step (weights renormalised over them); the pick is rewarded by the
    student's improvement (:func:`improvement_reward`): ``reward='heldout'``,
    the decrease of the student's detection loss on a fixed val batch across
    the step's update (one extra student forward per iteration), or
    ``'next_step'``, its decrease from this training batch to the next
    (free, noisy). Weights are logged as ``w_<name>``, rewards as
    ``teacher_reward``; the distillers,
    weighting and selector state are saved under ``checkpoint['mmkd']``.

    Args:
        teachers: ``[dict(config=..., checkpoint=..., name='l'), ...]`` (or
            teacher-source configs), at least two.
        distill: the hook's entries (each teacher gets its own copy with
            ``combine='loss'``).
        combine: ``'loss'`` or ``'target'``.
        weighting: a :class:`TeacherWeighting` config; default uniform.
        selector: a :class:`TeacherSelector` config, or ``None`` (all teach).
        reward: ``'heldout'`` or ``'next_step'`` (with a selector).
        reward_scale: relative loss decrease that earns a reward of 0.73.
    """

    def __init__(self, teachers: Sequence[dict], distill: Sequence[dict], combine: str = 'loss',
                 weighting: Optional[dict] = None, selector: Optional[dict] = None, reward: str = 'heldout',
                 reward_scale: float = 0.01) -> None:
        if not isinstance(teachers, (list, tuple)) or len(teachers) < 2:
            raise ValueError('teachers must list at least two dict(config=..., checkpoint=...)')
        if combine not in ('loss', 'target'):
            raise ValueError(f'combine must be "loss" or "target", got "{combine}"')
        if reward not in ('heldout', 'next_step'):
            raise ValueError(f'reward must be "heldout" or "next_step", got "{reward}"')
        self.teacher_cfgs = [dict(cfg) for cfg in teachers]
        self.names = [cfg.get('name', f'teacher{i}') for i, cfg in enumerate(teachers)]
        if len(set(self.names)) != len(self.names):
            raise ValueError(f'teachers share a name: {self.names}')
        self.combine = combine
        self.weighting = self._policy(weighting or dict(type='mmkd.FixedTeacherWeights'), TeacherWeighting)
        if combine == 'target' and self.weighting.needs_teacher_losses:
            raise ValueError(f'{type(self.weighting).__name__} learns from each teacher\'s loss: '
                             'use combine="loss"')
        self.selector = self._policy(selector, TeacherSelector) if selector else None
        self.members = [build_teacher_source(self._member_cfg(cfg, index), f'teachers[{index}]')
                        for index, cfg in enumerate(teachers)]
        self.extra_distillers = [Distiller(distill) for _ in range(len(teachers) - 1 if combine == 'loss' else 0)]
        self.reward = reward
        self.reward_scale = reward_scale
        self._chosen: Optional[Tensor] = None
        self._previous_choice: Optional[Tensor] = None
        self._last_measure: Optional[float] = None
        self._detection_loss: Optional[float] = None
        self._weighting_losses: Dict[str, Tensor] = {}

    def _policy(self, cfg: dict, base: type) -> nn.Module:
        module = build_mmkd_module(dict(cfg, num_teachers=len(self.teacher_cfgs)))
        if not isinstance(module, base):
            raise TypeError(f'"{cfg["type"]}" is not a {base.__name__}')
        return module

    def _member_cfg(self, cfg: dict, index: int) -> dict:
        if not isinstance(cfg, dict) or 'type' in cfg or 'config' not in cfg:
            return cfg  # a source config, or one build_teacher_source refuses
        return dict(cfg, name=self.names[index], extra_records=self.weighting.required_records)

    # ------------------------------------------------------------------ set-up
    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        self.distiller = distiller
        self._runner = runner
        self.distillers = nn.ModuleList([distiller, *self.extra_distillers])
        for index, member in enumerate(self.members):
            member.build(runner, student, self.distillers[index] if self.combine == 'loss' else distiller, device)
        self.model = self.members[0].model
        self.distillers.to(device)
        self.weighting.to(device)

    def describe(self) -> str:
        teachers = ', '.join(f'{name}={cfg.get("config")} ({_million_params(member.model):.2f} M params)'
                             for name, cfg, member in zip(self.names, self.teacher_cfgs, self.members))
        selector = type(self.selector).__name__ if self.selector else 'none'
        return (f'{len(self.members)} frozen teachers [{teachers}], combine={self.combine}, '
                f'weighting={type(self.weighting).__name__}, selector={selector}')

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        """Every teacher's records, by teacher name."""
        return {name: member.record(inputs, data_samples, student_records)
                for name, member in zip(self.names, self.members)}

    def build_adapters(self, student_records: Dict[str, Any], teacher_records: Any,
                       input_size: Tuple[int, int]) -> List[str]:
        records = list(teacher_records.values())
        if self.combine == 'target':
            self._check_same_shapes(records)
            return self.distiller.build_adapters(student_records, records[0], input_size)
        return [f'{name}: {line}' for name, distiller, teacher in zip(self.names, self.distillers, records)
                for line in distiller.build_adapters(student_records, teacher, input_size)]

    def _check_same_shapes(self, teacher_records: List[Dict[str, Any]]) -> None:
        for path in self.distiller.record_paths('teacher'):
            shapes = [_shapes(records[path]) for records in teacher_records]
            if any(shape != shapes[0] for shape in shapes):
                raise ValueError(f'combine="target" averages the teachers\' "{path}" outputs, but their shapes '
                                 f'differ: {dict(zip(self.names, shapes))}; use combine="loss" (one adapter per '
                                 'teacher) or distil outputs of equal shape')

    def trainable_modules(self) -> List[nn.Module]:
        return [*self.extra_distillers, self.weighting]

    def evaluated_models(self) -> Dict[str, nn.Module]:
        return {f'teacher {name}': member.model for name, member in zip(self.names, self.members)}

    def before_train(self, runner) -> None:
        if self.selector is not None and self.reward == 'heldout':
            self._heldout = unwrap(runner.model).data_preprocessor(next(iter(runner.val_dataloader)), False)
            self._last_measure = self._heldout_loss(runner)

    def after_train(self, runner) -> None:
        for member in self.members:
            member.after_train(runner)

    # ---------------------------------------------------------------- training
    def losses(self, step: DistillStep) -> Dict[str, Tensor]:
        """Active teachers' records, their weights, and the combined losses."""
        if self.selector is not None and self.reward == 'next_step':
            self._detection_loss = _mean_over_ranks(step.student.parse_losses(step.student_losses)[0])
        everyone = torch.ones(len(self.members), dtype=torch.bool)
        active = self.selector.select() if self.selector is not None else everyone
        self._chosen = active
        records = [member.record(step.inputs, step.data_samples, step.student_records) if on else None
                   for member, on in zip(self.members, active.tolist())]
        first = int(active.nonzero()[0])
        ctx = step.context(self.members[first].model, {})
        weights = step.run(self.weighting, records, [member.model for member in self.members], active, ctx)
        self._log_weights(weights)
        if self.combine == 'target':
            ctx.teacher_records = _weighted_records(records, weights.detach(), self.distiller.record_paths('teacher'))
            losses, teacher_losses = step.run(self.distiller, ctx), None
        else:
            losses, teacher_losses = self._combined_losses(step, ctx, records, weights.detach().mean(dim=1))
        self._weighting_losses = self.weighting.extra_losses(weights, teacher_losses)
        return losses

    def extra_losses(self, step: DistillStep) -> Dict[str, Tensor]:
        """The objective of learnable weights (``loss_teacher_weights``): outside the balance and the schedule,
        which scale distillation terms; it trains only the weights."""
        losses, self._weighting_losses = self._weighting_losses, {}
        return losses

    def _combined_losses(self, step: DistillStep, ctx: DistillContext, records: List[Optional[dict]],
                         weights: Tensor) -> Tuple[Dict[str, Tensor], Tensor]:
        """``sum_k w_k L_e(S, T_k)`` over the active teachers for every entry ``e``,
        and each teacher's total ``sum_e L_e(S, T_k)`` (0 when inactive)."""
        total: Dict[str, Tensor] = {}
        teacher_losses = weights.new_zeros(len(self.members))
        for index, (member, distiller) in enumerate(zip(self.members, self.distillers)):
            if records[index] is None:
                continue
            ctx.teacher, ctx.teacher_records = member.model, records[index]
            losses = step.run(distiller, ctx)
            teacher_losses[index] = sum(value.detach() for value in losses.values())
            for key, value in losses.items():
                total[key] = total.get(key, 0) + weights[index] * value
        return total, teacher_losses

    def _log_weights(self, weights: Tensor) -> None:
        for name, weight in zip(self.names, weights.detach().mean(dim=1).tolist()):
            self._runner.message_hub.update_scalar(f'train/w_{name}', weight)

    def after_train_iter(self, runner) -> None:
        """Reward the selector with the student's improvement."""
        if self.selector is None or self._chosen is None:
            return
        if self.reward == 'heldout':
            measure, rewarded = self._heldout_loss(runner), self._chosen
        else:
            measure, rewarded, self._previous_choice = self._detection_loss, self._previous_choice, self._chosen
        if rewarded is not None and self._last_measure is not None:
            reward = improvement_reward(self._last_measure, measure, self.reward_scale)
            self.selector.update(rewarded, reward)
            runner.message_hub.update_scalar('train/teacher_reward', reward)
        self._last_measure, self._chosen = measure, None

    def _heldout_loss(self, runner) -> float:
        """The student's detection loss on the held-out batch (eval mode, no gradients)."""
        student = unwrap(runner.model)
        with eval_mode(student), torch.no_grad():
            losses = student.loss(self._heldout['inputs'], self._heldout['data_samples'])
        return _mean_over_ranks(student.parse_losses(losses)[0])

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        state = dict(distiller=weights_to_cpu(self.distillers.state_dict()),
                     weighting=weights_to_cpu(self.weighting.state_dict()),
                     teachers=[dict(cfg) for cfg in self.teacher_cfgs])
        if self.selector is not None:
            state['selector'] = self.selector.state_dict()
        return state

    def load_state_dict(self, state: Dict[str, Any]) -> None:
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


def _million_params(model: nn.Module) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6
