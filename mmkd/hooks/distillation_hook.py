"""The drop-in distillation hook: a frozen teacher teaches any mmdet student."""
from contextlib import nullcontext
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from mmkd.context import DistillContext
from mmkd.engine.distiller import Distiller, all_finite, trainable_parameters
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.optimizer import add_module_to_optimizer
from mmkd.engine.schedule import LossWeightSchedule
from mmkd.engine.teacher import TeacherInputConverter, build_frozen_detector, run_detector
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
        evaluate_teacher: evaluate the teacher once on the val set before
            training and log its metrics.
        probe_input_size: ``(H, W)`` of the zero batch that reveals feature
            shapes at start; a multiple of the largest stride.
        check_finite: stop with an error when a distillation loss is NaN/inf.
        find_unused_parameters: passed to DDP around the distillation modules.
    """
    priority = 'NORMAL'

    def __init__(self, teacher: dict, distill: Sequence[dict], schedule: Optional[dict] = None,
                 evaluate_teacher: bool = False, probe_input_size: Tuple[int, int] = (256, 256),
                 check_finite: bool = True, find_unused_parameters: bool = False) -> None:
        if not isinstance(teacher, dict) or 'config' not in teacher:
            raise KeyError('teacher must be dict(config=..., checkpoint=...) naming the teacher\'s '
                           'mmdet config and trained weights')
        self.teacher_cfg = teacher
        self.distiller = Distiller(distill)
        self.schedule = LossWeightSchedule(**(schedule or {}))
        self.evaluate_teacher = evaluate_teacher
        self.probe_input_size = tuple(probe_input_size)
        self.check_finite = check_finite
        self.find_unused_parameters = find_unused_parameters
        self.teacher: Optional[nn.Module] = None
        self._handles: List[Any] = []
        self._runner = None
        self._distilling = False

    # ------------------------------------------------------------------ set-up
    def before_run(self, runner) -> None:
        student = _unwrap(runner.model)
        device = next(student.parameters()).device
        self.teacher, _, meta = build_frozen_detector(
            self.teacher_cfg['config'], self.teacher_cfg.get('checkpoint'), 'teacher', device)
        self._check_record_paths(student)
        self._check_class_sets(student, meta, runner)
        self.student_recorder = ModuleRecorder(student, self.distiller.record_paths('student'), 'distill[].student')
        self.teacher_recorder = ModuleRecorder(self.teacher, self.distiller.record_paths('teacher'), 'distill[].teacher')
        self.convert_inputs = TeacherInputConverter(student.data_preprocessor, self.teacher.data_preprocessor)
        summary = self._probe_and_build_adapters(student, device)
        self.distiller.to(device)
        self._distiller_call = self.distiller
        n_trainable = trainable_parameters(self.distiller)
        if n_trainable:
            paramwise_cfg = runner.cfg.get('optim_wrapper', {}).get('paramwise_cfg') or {}
            add_module_to_optimizer(runner.optim_wrapper, runner.param_schedulers, self.distiller, paramwise_cfg)
            if is_distributed():
                self._distiller_call = DistributedDataParallel(
                    self.distiller, device_ids=None, find_unused_parameters=self.find_unused_parameters)
        runner.logger.info(
            f'mmkd: teacher {self.teacher_cfg["config"]} from {self.teacher_cfg.get("checkpoint")} '
            f'(frozen, {sum(p.numel() for p in self.teacher.parameters()) / 1e6:.2f} M params); '
            f'distillation modules: {n_trainable} trainable params\n  ' + '\n  '.join(summary))

    def _check_record_paths(self, student: nn.Module) -> None:
        for entry in self.distiller.entries:
            find_module(student, entry.student.path, f'{entry.config_key}.student')
            find_module(self.teacher, entry.teacher.path, f'{entry.config_key}.teacher')
        for name, loss in self.distiller.losses.items():
            for path in loss.required_records:
                find_module(student, path, f'{type(loss).__name__} ({name}) needs student module')
                find_module(self.teacher, path, f'{type(loss).__name__} ({name}) needs teacher module')

    def _check_class_sets(self, student: nn.Module, meta: dict, runner) -> None:
        """Response distillation pairs classes one to one: they must be the same."""
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
        teacher_n = getattr(getattr(self.teacher, 'bbox_head', None), 'num_classes', None)
        if student_n is not None and teacher_n is not None and student_n != teacher_n:
            raise ValueError(f'{responses[0].config_key}: teacher bbox_head.num_classes={teacher_n} but '
                             f'student bbox_head.num_classes={student_n}; response distillation needs '
                             'a teacher trained on the same classes')

    def _probe_and_build_adapters(self, student: nn.Module, device: torch.device) -> List[str]:
        """One zero batch through both models reveals every recorded shape."""
        probe = torch.zeros(2, 3, *self.probe_input_size, device=device)
        was_training = student.training
        student.eval()
        try:
            with torch.no_grad():
                student_records = self._record(self.student_recorder, student, probe)
                teacher_records = self._record(self.teacher_recorder, self.teacher, probe)
        finally:
            student.train(was_training)
        return self.distiller.build_adapters(student_records, teacher_records, self.probe_input_size)

    @staticmethod
    def _record(recorder: ModuleRecorder, model: nn.Module, inputs: Tensor,
                data_samples: Optional[list] = None) -> Dict[str, Any]:
        recorder.clear()
        recorder.attach()
        recorder.active = True
        try:
            run_detector(model, inputs, recorder.modules, data_samples)
        finally:
            recorder.active = False
        missing = recorder.missing()
        if missing:
            raise RuntimeError(f'modules {missing} of {type(model).__name__} did not run in its forward; '
                               'distil outputs of modules the detector actually calls')
        records, recorder.records = recorder.records, {}
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
        losses = self.compute_losses(module, inputs, data_samples)
        collisions = sorted(set(losses) & set(output))
        if collisions:
            raise KeyError(f'distillation loss keys {collisions} collide with the student\'s own losses; '
                           'rename those distill entries with name=')
        output.update(losses)
        return output

    def compute_losses(self, student: nn.Module, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """Teacher forward (no grad) and every entry's weighted loss."""
        with torch.no_grad():
            teacher_records = self._record(self.teacher_recorder, self.teacher, self.convert_inputs(inputs),
                                           data_samples)
        ctx = DistillContext(inputs=inputs, data_samples=data_samples, student=student, teacher=self.teacher,
                             student_records=self.student_recorder.records, teacher_records=teacher_records)
        with self._sync_context():
            losses = self._distiller_call(ctx)
        self.student_recorder.clear()
        factor = self.schedule.factor(self._runner.iter, self._runner.epoch)
        losses = {key: value * factor for key, value in losses.items()}
        if self.check_finite and not all_finite(losses):
            bad = [key for key, value in losses.items() if not torch.isfinite(value).all()]
            raise FloatingPointError(f'mmkd: distillation loss {bad} is not finite at iteration '
                                     f'{self._runner.iter}; stopping before training on garbage. '
                                     'Lower its loss_weight/temperature or check the teacher.')
        return losses

    def _sync_context(self):
        """Skip DDP gradient sync of the distillation modules while accumulating."""
        optim_wrapper = getattr(self._runner, 'optim_wrapper', None)
        if isinstance(self._distiller_call, DistributedDataParallel) and not optim_wrapper.should_sync():
            return self._distiller_call.no_sync()
        return nullcontext()

    # ------------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['mmkd'] = dict(distiller=weights_to_cpu(self.distiller.state_dict()),
                                  teacher=dict(self.teacher_cfg))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('mmkd')
        if state is not None:
            self.distiller.load_state_dict(state['distiller'])


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _forward_arguments(args: tuple, kwargs: dict) -> Tuple[Any, Any, str]:
    bound = dict(zip(_FORWARD_ARGUMENTS, args))
    bound.update(kwargs)
    return bound.get('inputs'), bound.get('data_samples'), bound.get('mode', 'tensor')


def _dataset_classes(runner) -> Optional[Sequence[str]]:
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    return (getattr(dataset, 'metainfo', None) or {}).get('classes')
