"""The drop-in distillation hook: a frozen teacher teaches any mmdet student."""
from contextlib import nullcontext
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import BaseOptimWrapper
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from mmkd.context import DistillContext
from mmkd.engine.balance import LossBalance
from mmkd.engine.distiller import Distiller, all_finite, trainable_parameters
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.optimizer import add_module_to_optimizer
from mmkd.engine.schedule import LossWeightSchedule
from mmkd.engine.teacher import TeacherInputConverter, build_frozen_detector, run_detector
from mmkd.engine.two_stage import probe_batch
from mmkd.heads import check_response_heads
from mmkd.recorders import ModuleRecorder
from mmkd.recorders.callbacks import BoundModuleHook
from mmkd.recorders.module_recorder import find_module
from mmkd.registry import HOOKS

_FORWARD_ARGUMENTS = ('inputs', 'data_samples', 'mode')


@HOOKS.register_module()
class DistillationHook(Hook):
    """Distil a frozen teacher into the student that ``runner.model`` trains.

    The student's config stays as it is; this hook, added to
    ``custom_hooks``, builds the teacher from its config and checkpoint, keeps
    it frozen and outside ``runner.model`` (so the student's checkpoint and EMA
    copy stay plain), records the outputs named in ``distill`` on both models
    with forward hooks, runs the teacher without gradients on the very batch the
    student sees (after its data preprocessor and batch augments), and adds one
    ``loss_<name>`` per entry to the student's loss dict. Adapters and learnable
    parts of losses train with the student's optimizer and LR schedule, and are
    saved under ``checkpoint['mmkd']`` and restored on resume.

    Args:
        teacher: ``dict(config=PATH_OR_mmdet::PATH, checkpoint=PATH)``.
        distill: entries ``dict(name=..., student='neck', teacher='neck',
            adapter='auto', loss=dict(type='mmkd.FeatureMSELoss'))``. See
            :class:`mmkd.engine.DistillEntry`.
        schedule: keyword arguments of :class:`LossWeightSchedule`
            (``warmup_iters``, ``stop_epoch``, ``stop_iter``).
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

    def __init__(self, teacher: dict, distill: Sequence[dict], schedule: Optional[dict] = None,
                 balance: Optional[dict] = None, evaluate_teacher: bool = False, probe_input_size: Tuple[int, int] = (256, 256),
                 check_finite: bool = True, find_unused_parameters: bool = False) -> None:
        self.teacher_cfg = self._checked_teacher_cfg(teacher)
        self.distiller = Distiller(distill)
        self.schedule = LossWeightSchedule(**(schedule or {}))
        self.balance = LossBalance(**balance) if balance else None
        self.evaluate_teacher = evaluate_teacher
        self.probe_input_size = tuple(probe_input_size)
        self.check_finite = check_finite
        self.find_unused_parameters = find_unused_parameters
        self.teacher: Optional[nn.Module] = None
        self._handles: List[Any] = []
        self._runner = None
        self._distilling = False
        self.active = False

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _checked_teacher_cfg(teacher: Optional[dict]) -> Optional[dict]:
        """The ``teacher`` argument, validated (schemes without one override this)."""
        if not isinstance(teacher, dict) or 'config' not in teacher:
            raise KeyError('teacher must be dict(config=..., checkpoint=...) naming the teacher\'s '
                           'mmdet config and trained weights')
        return teacher

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
        """Teacher, recorders, adapters and optimizer groups of a training run."""
        student = _unwrap(runner.model)
        self._check_student_paths(student)
        device = next(student.parameters()).device
        check_response_heads(student, self.distiller)
        self.teacher, meta = self.build_teacher(runner, student, device)
        self._check_record_paths(student)
        self._check_class_sets(student, meta, runner)
        self.student_recorder = ModuleRecorder(student, self.student_record_paths(), 'distill[].student')
        self.teacher_recorder = ModuleRecorder(self.teacher, self.teacher_record_paths(), 'distill[].teacher')
        self.convert_inputs = TeacherInputConverter(student.data_preprocessor, self.teacher.data_preprocessor)
        summary = self._probe_and_build_adapters(student, device)
        self.distiller.to(device)
        self._distiller_call = self.train_with_student(runner, self.distiller)
        runner.logger.info(f'mmkd: {self.describe_teacher()}; distillation modules: '
                           f'{trainable_parameters(self.distiller)} trainable params\n  ' + '\n  '.join(summary))

    def build_teacher(self, runner, student: nn.Module, device: torch.device) -> Tuple[nn.Module, dict]:
        """``(teacher, checkpoint_meta)``: the frozen pre-trained teacher (offline KD)."""
        teacher, _, meta = build_frozen_detector(
            self.teacher_cfg['config'], self.teacher_cfg.get('checkpoint'), 'teacher', device)
        return teacher, meta

    def describe_teacher(self) -> str:
        return (f'teacher {self.teacher_cfg["config"]} from {self.teacher_cfg.get("checkpoint")} '
                f'(frozen, {sum(p.numel() for p in self.teacher.parameters()) / 1e6:.2f} M params)')

    def student_record_paths(self) -> List[str]:
        return self.distiller.record_paths('student')

    def teacher_record_paths(self) -> List[str]:
        return self.distiller.record_paths('teacher')

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

    def _check_record_paths(self, student: nn.Module, teacher: Optional[nn.Module] = None,
                            distiller: Optional[Distiller] = None) -> None:
        teacher = self.teacher if teacher is None else teacher
        distiller = self.distiller if distiller is None else distiller
        for entry in distiller.entries:
            find_module(student, entry.student.path, f'{entry.config_key}.student')
            find_module(teacher, entry.teacher.path, f'{entry.config_key}.teacher')
        distiller.bind_cross_heads(student, teacher)
        for name, loss in distiller.losses.items():
            for path in loss.required_records:
                find_module(student, path, f'{type(loss).__name__} ({name}) needs student module')
                find_module(teacher, path, f'{type(loss).__name__} ({name}) needs teacher module')

    def _check_class_sets(self, student: nn.Module, meta: dict, runner,
                          teacher: Optional[nn.Module] = None) -> None:
        """Response distillation pairs classes one to one: they must be the same."""
        teacher = self.teacher if teacher is None else teacher
        responses = [entry for entry in self.distiller.entries
                     if not self.distiller.losses[entry.name].adapts_student
                     or entry.student.path.startswith('bbox_head')]
        if not responses:
            return
        student_classes = _dataset_classes(runner)
        teacher_classes = (meta.get('dataset_meta') or {}).get('classes')
        if student_classes and teacher_classes and tuple(student_classes) != tuple(teacher_classes):
            raise ValueError(f'{responses[0].config_key}: the teacher was trained on classes '
                             f'{tuple(teacher_classes)} but the student trains on {tuple(student_classes)}; '
                             'response distillation needs the same class list in the same order')
        student_n = getattr(getattr(student, 'bbox_head', None), 'num_classes', None)
        teacher_n = getattr(getattr(teacher, 'bbox_head', None), 'num_classes', None)
        if student_n is not None and teacher_n is not None and student_n != teacher_n:
            raise ValueError(f'{responses[0].config_key}: teacher bbox_head.num_classes={teacher_n} but '
                             f'student bbox_head.num_classes={student_n}; response distillation needs '
                             'a teacher trained on the same classes')

    def _probe_and_build_adapters(self, student: nn.Module, device: torch.device) -> List[str]:
        """One zero batch through both models reveals every recorded shape."""
        student_records, teacher_records = self._probe(student, device)
        return self.distiller.build_adapters(student_records, teacher_records, self.probe_input_size)

    def _probe(self, student: nn.Module, device: torch.device) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """Student and teacher records of a zero batch, both in eval mode."""
        probe, data_samples = probe_batch(2, self.probe_input_size, device)
        was_training = student.training
        student.eval()
        try:
            with torch.no_grad():
                student_records = self._probed('student', lambda: self._record(
                    self.student_recorder, student, probe, data_samples))
                return student_records, self._probed('teacher', lambda: self.teacher_records(
                    probe, data_samples, student_records))
        finally:
            student.train(was_training)

    def _probed(self, side: str, run: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        """``run()``, with a failure named by the entries that needed it."""
        try:
            return run()
        except Exception as error:
            entries = ', '.join(f'{entry.config_key} ({side}={getattr(entry, side)})'
                                for entry in self.distiller.entries)
            raise RuntimeError(f'mmkd: the {side} failed on the set-up probe batch of size '
                               f'{self.probe_input_size} while recording {entries}: '
                               f'{type(error).__name__}: {error}') from error

    @staticmethod
    def _record(recorder: ModuleRecorder, model: nn.Module, inputs: Tensor, data_samples: Optional[list] = None,
                student_records: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        with recorder.capture() as records:
            run_detector(model, inputs, recorder.modules, data_samples, student_records)
        return records

    def before_train(self, runner) -> None:
        self._runner = runner
        student = _unwrap(runner.model)
        self.student_recorder.attach()
        self._handles = [
            student.register_forward_pre_hook(BoundModuleHook(student, self._before_student_forward),
                                              with_kwargs=True),
            student.register_forward_hook(BoundModuleHook(student, self._after_student_forward),
                                          with_kwargs=True),
        ]
        if self.evaluate_teacher and runner.val_loop is not None:
            metrics = evaluate_detector(self.teacher, runner.val_dataloader, runner.val_evaluator)
            runner.logger.info(f'mmkd: teacher on the val set: {metrics}')

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.student_recorder.detach()
        self.teacher_recorder.detach()

    # ---------------------------------------------------------------- training
    def _before_student_forward(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        _, _, mode = _forward_arguments(args, kwargs)
        factor = self.schedule.factor(self._runner.iter, self._runner.epoch)
        self._distilling = mode == 'loss' and module.training and factor > 0
        self.student_recorder.clear()
        self.student_recorder.active = self._distilling

    def _after_student_forward(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> Any:
        if not self._distilling:
            return None
        self._distilling = False
        self.student_recorder.active = False
        inputs, data_samples, _ = _forward_arguments(args, kwargs)
        losses = self.compute_losses(module, inputs, data_samples, output)
        collisions = sorted(set(losses) & set(output))
        if collisions:
            raise KeyError(f'distillation loss keys {collisions} collide with the student\'s own losses; '
                           'rename those distill entries with name=')
        output.update(losses)
        return output

    def compute_losses(self, student: nn.Module, inputs: Tensor, data_samples: list,
                       student_losses: Dict[str, Any]) -> Dict[str, Tensor]:
        """Every entry's weighted (and balanced) loss, times the schedule's factor, checked finite.

        ``student_losses`` is the student's own loss dict of this forward.
        """
        losses = self.distillation_losses(student, inputs, data_samples)
        self.student_recorder.clear()
        if self.balance is not None:
            losses = self.balance(losses, student.parse_losses(student_losses)[0])
        factor = self.schedule.factor(self._runner.iter, self._runner.epoch)
        losses = {key: value * factor for key, value in losses.items()}
        if self.check_finite and not all_finite(losses):
            bad = [key for key, value in losses.items() if not torch.isfinite(value).all()]
            raise FloatingPointError(f'mmkd: distillation loss {bad} is not finite at iteration '
                                     f'{self._runner.iter + 1} (as the log counts); stopping before training on garbage. '
                                     'Lower its loss_weight/temperature or check the teacher.')
        return losses

    def distillation_losses(self, student: nn.Module, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """Teacher records on the student's batch, then the distiller's losses."""
        student_records = self.student_recorder.records
        teacher_records = self.teacher_records(inputs, data_samples, student_records)
        ctx = DistillContext(inputs=inputs, data_samples=data_samples, student=student, teacher=self.teacher,
                             student_records=student_records, teacher_records=teacher_records)
        with self._sync_context(self._distiller_call):
            return self._distiller_call(ctx)

    def teacher_records(self, inputs: Tensor, data_samples: Optional[list],
                        student_records: Dict[str, Any]) -> Dict[str, Any]:
        """The teacher's records on ``inputs``: a forward without gradients.

        RoI branches run on the student's RoIs, kept in ``student_records``.
        """
        with torch.no_grad():
            return self._record(self.teacher_recorder, self.teacher, self.convert_inputs(inputs), data_samples,
                                student_records)

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
        """What ``checkpoint['mmkd']`` holds; schemes add their own state."""
        state = dict(distiller=weights_to_cpu(self.distiller.state_dict()), teacher=dict(self.teacher_cfg))
        if self.balance is not None:
            state['balance'] = self.balance.state_dict()
        return state

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        self.distiller.load_state_dict(state['distiller'])
        if self.balance is not None and 'balance' in state:
            self.balance.load_state_dict(state['balance'])


def is_training_run(runner) -> bool:
    """Whether ``runner`` is training: ``Runner.train()`` builds the optimizer
    wrapper before ``before_run``; ``test()`` and ``val()`` leave its config."""
    return isinstance(runner.optim_wrapper, BaseOptimWrapper)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _forward_arguments(args: tuple, kwargs: dict) -> Tuple[Any, Any, str]:
    bound = dict(zip(_FORWARD_ARGUMENTS, args))
    bound.update(kwargs)
    return bound.get('inputs'), bound.get('data_samples'), bound.get('mode', 'tensor')


def _dataset_classes(runner) -> Optional[Sequence[str]]:
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    return (getattr(dataset, 'metainfo', None) or {}).get('classes')
