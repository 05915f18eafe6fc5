"""The drop-in distillation hook: a teacher source teaches any mmdet student."""
from contextlib import nullcontext
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.optim import BaseOptimWrapper
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from mmkd.engine.balance import LossBalance
from mmkd.engine.distiller import Distiller, all_finite, trainable_parameters
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.optimizer import add_module_to_optimizer
from mmkd.engine.schedule import LossWeightSchedule
from mmkd.engine.teacher import run_detector
from mmkd.engine.two_stage import probe_batch
from mmkd.head_outputs import check_response_heads
from mmkd.recorders import ModuleRecorder
from mmkd.recorders.callbacks import BoundModuleHook
from mmkd.registry import HOOKS
from mmkd.teachers import DistillStep, TeacherSource, build_teacher_source
from mmkd.utils.modules import eval_mode, find_module, unwrap

_FORWARD_ARGUMENTS = ('inputs', 'data_samples', 'mode')


@HOOKS.register_module()
class DistillationHook(Hook):
    """Distil a teacher into the student that ``runner.model`` trains.

    The student's config stays as it is; this hook, added to
    ``custom_hooks``, records the outputs named in ``distill`` on the student
    with forward hooks and asks its teacher source (:mod:`mmkd.teachers`) for
    the teacher side of the very batch the student sees (after its data
    preprocessor and batch augments); it adds one ``loss_<name>`` per entry to
    the student's loss dict. The default source builds the teacher from its
    config and checkpoint and keeps it frozen and outside ``runner.model`` (so
    the student's checkpoint and EMA copy stay plain). Adapters, learnable
    parts of losses and whatever the source trains join the student's
    optimizer and LR schedule; they are saved under ``checkpoint['mmkd']`` and
    restored on resume.

    Args:
        teacher: ``dict(config=PATH_OR_mmdet::PATH, checkpoint=PATH)`` (a
            frozen teacher), a teacher source config
            ``dict(type='mmkd.AveragedTeacher', ...)``, or a built
            :class:`mmkd.teachers.TeacherSource`.
        distill: entries ``dict(name=..., student='neck', teacher='neck',
            adapter='auto', loss=dict(type='mmkd.FeatureMSELoss'))``. See
            :class:`mmkd.engine.DistillEntry`.
        schedule: keyword arguments of :class:`LossWeightSchedule`
            (``warmup_iters``, ``start_iter``, ``stop_epoch``, ``stop_iter``).
        balance: ``dict(target_ratio=r, iters=N)``: measure every term against
            the student's detection loss over the first ``N`` iterations (terms
            weighted zero meanwhile), then scale each to ``r`` times it. See
            :class:`mmkd.engine.balance.LossBalance`.
        evaluate_teacher: evaluate the teacher once on the val set before
            training and log its metrics.
        probe_input_size: ``(H, W)`` of the zero batch that reveals feature
            shapes at start; a multiple of the largest stride.
        check_finite: stop with an error when a distillation loss is NaN/inf.
        find_unused_parameters: passed to DDP around the distillation modules.
    """
    priority = 'NORMAL'

    def __init__(self, teacher: Union[dict, TeacherSource], distill: Sequence[dict],
                 schedule: Optional[dict] = None, balance: Optional[dict] = None, evaluate_teacher: bool = False,
                 probe_input_size: Tuple[int, int] = (256, 256), check_finite: bool = True,
                 find_unused_parameters: bool = False) -> None:
        self.source = build_teacher_source(teacher)
        self.distiller = Distiller(distill)
        self.schedule = LossWeightSchedule(**(schedule or {}))
        self.balance = LossBalance(**balance) if balance else None
        self.evaluate_teacher = evaluate_teacher
        self.probe_input_size = tuple(probe_input_size)
        self.check_finite = check_finite
        self.find_unused_parameters = find_unused_parameters
        self._calls: Dict[nn.Module, Callable] = {}
        self._handles: List[Any] = []
        self._runner = None
        self._distilling = False
        self.active = False

    @property
    def teacher(self) -> nn.Module:
        """The detector whose records teach (``DistillContext.teacher``): the source's model."""
        return self.source.model

    # ------------------------------------------------------------------ set-up
    def before_run(self, runner) -> None:
        """Set distillation up for a training run; stay idle in test/val runs.

        ``Runner.test()`` and ``Runner.val()`` call ``before_run`` too, with the
        config that trained the model; they need no teacher and have no
        optimizer, so nothing is built there.
        """
        self.active = is_training_run(runner)
        if not self.active:
            runner.logger.info(f'mmkd: {type(self).__name__} is idle: this run does not train')
            return
        self.set_up(runner)

    def set_up(self, runner) -> None:
        """Teacher source, recorders, adapters and optimizer groups of a training run."""
        student = unwrap(runner.model)
        self._check_student_paths(student)
        check_response_heads(student, self.distiller)
        device = next(student.parameters()).device
        self.source.build(runner, student, self.distiller, device)
        self.student_recorder = ModuleRecorder(student, self.source.student_record_paths(), 'distill[].student')
        summary = self._probe_and_build_adapters(student, device)
        self.distiller.to(device)
        trained = [self.distiller, *self.source.trainable_modules()]
        self._calls = {module: self.train_with_student(runner, module) for module in trained}
        runner.logger.info(f'mmkd: {self.source.describe()}; trained with the student: '
                           f'{sum(trainable_parameters(module) for module in trained)} params\n  '
                           + '\n  '.join(summary))

    def train_with_student(self, runner, module: nn.Module) -> Callable:
        """Put ``module``'s trainable parameters in the student's optimizer.

        Returns what to call instead of ``module``: under a distributed run
        with trainable parameters, ``module`` wrapped in DDP.
        """
        if not trainable_parameters(module):
            return module
        paramwise_cfg = runner.cfg.get('optim_wrapper', {}).get('paramwise_cfg') or {}
        add_module_to_optimizer(runner.optim_wrapper, runner.param_schedulers, module, paramwise_cfg)
        if is_distributed():
            return DistributedDataParallel(module, device_ids=None,
                                           find_unused_parameters=self.find_unused_parameters)
        return module

    def _check_student_paths(self, student: nn.Module) -> None:
        """Every student module path exists: checked before the teacher is built."""
        for entry in self.distiller.entries:
            find_module(student, entry.student.path, f'{entry.config_key}.student')

    def _probe_and_build_adapters(self, student: nn.Module, device: torch.device) -> List[str]:
        """One zero batch with synthetic data samples (so a two-stage detector's
        proposal step runs) through the student (eval mode, no gradients) and
        the source reveals every shape."""
        probe, data_samples = probe_batch(2, self.probe_input_size, device)
        with eval_mode(student), torch.no_grad():
            with self.student_recorder.capture() as student_records:
                self._probed('student', lambda: run_detector(student, probe, self.student_recorder.modules,
                                                             data_samples))
            teacher_records = self._probed('teacher', lambda: self.source.record(probe, data_samples,
                                                                                 student_records))
        return self.source.build_adapters(student_records, teacher_records, self.probe_input_size)

    def _probed(self, side: str, run: Callable[[], Any]) -> Any:
        """``run()``, with a failure named by the entries that needed it."""
        try:
            return run()
        except Exception as error:
            entries = ', '.join(f'{entry.config_key} ({side}={getattr(entry, side)})'
                                for entry in self.distiller.entries)
            raise RuntimeError(f'mmkd: the {side} failed on the set-up probe batch of size '
                               f'{self.probe_input_size} while recording {entries}: '
                               f'{type(error).__name__}: {error}') from error

    @property
    def runner(self):
        """The runner this hook trains under (set by ``before_train``; ``None`` before)."""
        return self._runner

    def before_train(self, runner) -> None:
        self._runner = runner
        student = unwrap(runner.model)
        self.student_recorder.attach()
        self._handles = [
            student.register_forward_pre_hook(BoundModuleHook(student, self._before_student_forward),
                                              with_kwargs=True),
            student.register_forward_hook(BoundModuleHook(student, self._after_student_forward),
                                          with_kwargs=True),
        ]
        self.source.before_train(runner)
        if self.evaluate_teacher and runner.val_loop is not None:
            for name, model in self.source.evaluated_models().items():
                with eval_mode(model):
                    metrics = evaluate_detector(model, runner.val_dataloader, runner.val_evaluator)
                runner.logger.info(f'mmkd: {name} on the val set: {metrics}')

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if self.active:
            self.source.after_train_iter(runner)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if self.active:
            self.source.after_val_epoch(runner, metrics)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.student_recorder.detach()
        self.source.after_train(runner)

    # ---------------------------------------------------------------- training
    def _before_student_forward(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        _, _, mode = forward_arguments(args, kwargs)
        factor = self.schedule.factor(self._runner.iter, self._runner.epoch)
        self._distilling = mode == 'loss' and module.training and factor > 0
        self.student_recorder.clear()
        self.student_recorder.active = self._distilling

    def _after_student_forward(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
        if not self._distilling:
            return None
        self._distilling = False
        self.student_recorder.active = False
        inputs, data_samples, _ = forward_arguments(args, kwargs)
        losses = self.compute_losses(module, inputs, data_samples, output)
        _merge(output, losses, 'distillation loss keys {} collide with the student\'s own losses')
        return output

    def compute_losses(self, student: nn.Module, inputs: Tensor, data_samples: list,
                       student_losses: Dict[str, Any]) -> Dict[str, Tensor]:
        """Every entry's weighted (and balanced) loss, times the schedule's factor, checked finite,
        plus the source's own losses (e.g. a peer's detection losses).

        ``student_losses`` is the student's own loss dict of this forward.
        """
        step = DistillStep(student=student, inputs=inputs, data_samples=data_samples,
                           student_records=self.student_recorder.records, student_losses=student_losses, run=self._run)
        losses = self.distillation_losses(step)
        self.student_recorder.clear()
        if self.balance is not None:
            losses = self.balance(losses, student.parse_losses(student_losses)[0])
        factor = self.schedule.factor(self._runner.iter, self._runner.epoch)
        losses = {key: value * factor for key, value in losses.items()}
        if self.check_finite and not all_finite(losses):
            bad = [key for key, value in losses.items() if not torch.isfinite(value).all()]
            raise FloatingPointError(f'mmkd: distillation loss {bad} is not finite at iteration '
                                     f'{self._runner.iter + 1} (as the log counts); stopping before training on '
                                     'garbage. '
                                     'Lower its loss_weight/temperature or check the teacher.')
        return _merge(losses, self.source.extra_losses(step),
                      f'{type(self.source).__name__} loss keys {{}} collide with distillation losses')

    def distillation_losses(self, step: DistillStep) -> Dict[str, Tensor]:
        """The distillation losses of one step: the source's teacher side through the distiller."""
        return self.source.losses(step)

    def teacher_records(self, inputs: Tensor, data_samples: Optional[list],
                        student_records: Dict[str, Any]) -> Dict[str, Any]:
        """The teacher side's records on ``inputs`` (no gradient to the student).

        RoI branches run on the student's RoIs, kept in ``student_records``.
        """
        return self.source.record(inputs, data_samples, student_records)

    def _run(self, module: nn.Module, *args: Any, **kwargs: Any) -> Any:
        """Call ``module`` as it trains with the student (DDP-wrapped, sync skipped while accumulating)."""
        call = self._calls.get(module, module)
        with self._sync_context(call):
            return call(*args, **kwargs)

    def _sync_context(self, module_call: Callable):
        """Skip DDP gradient sync of ``module_call`` while accumulating gradients."""
        optim_wrapper = getattr(self._runner, 'optim_wrapper', None)
        if isinstance(module_call, DistributedDataParallel) and not optim_wrapper.should_sync():
            return module_call.no_sync()
        return nullcontext()

    # ------------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['mmkd'] = self.checkpoint_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('mmkd')
        if state is not None and self.active:
            self.load_checkpoint_state(state)

    def checkpoint_state(self) -> Dict[str, Any]:
        """What ``checkpoint['mmkd']`` holds: the source's state (distiller included) and the balance."""
        state = self.source.state_dict()
        if self.balance is not None:
            state['balance'] = self.balance.state_dict()
        return state

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        self.source.load_state_dict(state)
        if self.balance is not None and 'balance' in state:
            self.balance.load_state_dict(state['balance'])


def is_training_run(runner) -> bool:
    """Whether ``runner`` is training: ``Runner.train()`` builds the optimizer
    wrapper before ``before_run``; ``test()`` and ``val()`` leave its config."""
    return isinstance(runner.optim_wrapper, BaseOptimWrapper)


def forward_arguments(args: tuple, kwargs: dict) -> Tuple[Any, Any, str]:
    bound = dict(zip(_FORWARD_ARGUMENTS, args))
    bound.update(kwargs)
    return bound.get('inputs'), bound.get('data_samples'), bound.get('mode', 'tensor')


def _merge(losses: Dict[str, Any], extra: Dict[str, Any], collision: str) -> Dict[str, Any]:
    """``losses`` updated with ``extra``; keys both hold raise ``collision`` (formatted with them)."""
    collisions = sorted(set(extra) & set(losses))
    if collisions:
        raise KeyError(collision.format(collisions) + '; rename those distill entries with name=')
    losses.update(extra)
    return losses
