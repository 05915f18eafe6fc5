"""The teacher-source interface: what the distillation hook asks of its teacher side."""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import torch
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import Distiller
from mmkd.engine.teacher import TeacherInputConverter, run_detector
from mmkd.recorders import ModuleRecorder
from mmkd.registry import TEACHERS


@dataclass
class DistillStep:
    """One distilling forward of the student, as a teacher source sees it.

    Attributes:
        student: the student detector (not wrapped by DDP).
        inputs: the batch the student saw (after its data preprocessor).
        data_samples: the batch's ``DetDataSample`` list.
        student_records: the student's recorded outputs of this forward.
        student_losses: the student's own loss dict of this forward.
        run: ``run(module, *args, **kwargs)`` calls a module that trains with
            the student (the distiller, or one of
            :meth:`TeacherSource.trainable_modules`) as the optimizer sees it:
            DDP-wrapped in a distributed run, without gradient sync while
            gradients accumulate.
    """
    student: nn.Module
    inputs: Tensor
    data_samples: List[Any]
    student_records: Dict[str, Any]
    student_losses: Dict[str, Any]
    run: Callable[..., Any]

    def context(self, teacher: nn.Module, teacher_records: Dict[str, Any]) -> DistillContext:
        """The :class:`DistillContext` of this step against ``teacher``'s records."""
        return DistillContext(inputs=self.inputs, data_samples=self.data_samples, student=self.student,
                              teacher=teacher, student_records=self.student_records, teacher_records=teacher_records)


class TeacherSource:
    """Where the teacher side of distillation comes from: one part of the hook.

    :class:`mmkd.hooks.DistillationHook` owns the student side (recorders,
    the :class:`Distiller` of the ``distill`` entries, schedule, balance,
    optimizer groups, checkpoints) and asks its source, in this order:

    1. :meth:`build` once per training run: build or load the teacher(s)
       and check that the entries' teacher paths exist;
    2. :meth:`student_record_paths`: what the student records;
    3. :meth:`record` and :meth:`build_adapters` on a zero probe batch
       (student in eval mode, no gradients): shape-dependent modules;
    4. :meth:`trainable_modules`: what joins the student's optimizer;
    5. every distilling step, :meth:`losses` (usually :meth:`record`, then the
       distiller) and :meth:`extra_losses`;
    6. the callbacks :meth:`before_train`, :meth:`after_train_iter`,
       :meth:`after_val_epoch`, :meth:`after_train`;
    7. :meth:`state_dict` / :meth:`load_state_dict`: ``checkpoint['mmkd']``.

    Sources are registered in :data:`mmkd.registry.TEACHERS`; a hook's
    ``teacher=dict(type='mmkd.X', ...)`` builds one (see :func:`build_teacher_source`).
    """
    #: the detector whose records teach (``DistillContext.teacher``); set by :meth:`build`
    model: nn.Module
    #: the hook's distiller (student learns from :attr:`model`); set by :meth:`build`
    distiller: Distiller

    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        """Build the teacher side for ``student`` on ``device``; keep ``distiller``."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the log: what teaches."""
        raise NotImplementedError

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        """The teacher's records on the student's batch, by module path (no gradient to the student).

        On the zero batch that probes shapes, ``data_samples`` are synthetic
        (image metadata, no ground truth).
        """
        raise NotImplementedError

    def student_record_paths(self) -> List[str]:
        """Module paths of the student to record."""
        return self.distiller.record_paths('student')

    def build_adapters(self, student_records: Dict[str, Any], teacher_records: Any,
                       input_size: Tuple[int, int]) -> List[str]:
        """Adapters (and other shape-dependent parts) from the probe batch's records
        (``teacher_records`` as :meth:`record` returned them); one summary line each."""
        return self.distiller.build_adapters(student_records, teacher_records, input_size)

    def losses(self, step: DistillStep) -> Dict[str, Tensor]:
        """The distillation losses of one step (before the schedule, balance and finite check)."""
        teacher_records = self.record(step.inputs, step.data_samples, step.student_records)
        return step.run(self.distiller, step.context(self.model, teacher_records))

    def extra_losses(self, step: DistillStep) -> Dict[str, Any]:
        """Losses of what the source trains besides distillation (e.g. a peer's detection
        losses), added to the loss dict as they are, after :meth:`losses`."""
        return {}

    def trainable_modules(self) -> List[nn.Module]:
        """Modules besides the distiller that train with the student's optimizer."""
        return []

    def evaluated_models(self) -> Dict[str, nn.Module]:
        """Models to evaluate before training with ``evaluate_teacher=True``, by log name."""
        return {}

    def state_dict(self) -> Dict[str, Any]:
        """What ``checkpoint['mmkd']`` holds (the distiller's weights under ``distiller``)."""
        return dict(distiller=weights_to_cpu(self.distiller.state_dict()))

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.distiller.load_state_dict(state['distiller'])

    def before_train(self, runner) -> None:
        """Once the student's weights are loaded or resumed, before the first iteration."""

    def after_train_iter(self, runner) -> None:
        """After every optimizer step of the student."""

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]]) -> None:
        """After every validation of the student."""

    def after_train(self, runner) -> None:
        """Training ended: remove forward hooks."""


class RecordedDetector:
    """A detector run on the student's batch (re-normalised for it) with some modules recorded.

    Args:
        model: the detector.
        paths: its module paths to record.
        config_key: where the paths came from, for error messages.
        student: the student, whose data preprocessor normalised the batch.
    """

    def __init__(self, model: nn.Module, paths: Iterable[str], config_key: str, student: nn.Module) -> None:
        self.model = model
        self.recorder = ModuleRecorder(model, paths, config_key)
        self.convert_inputs = TeacherInputConverter(student.data_preprocessor, model.data_preprocessor)

    def records(self, inputs: Tensor, data_samples: Optional[list],
                student_records: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The recorded outputs of a forward without gradients; RoI branches run
        on the student's RoIs kept in ``student_records`` (see :func:`run_detector`)."""
        with torch.no_grad(), self.recorder.capture() as records:
            run_detector(self.model, self.convert_inputs(inputs), self.recorder.modules, data_samples,
                         student_records)
        return records


def build_teacher_source(cfg: Union[dict, TeacherSource], config_key: str = 'teacher') -> TeacherSource:
    """A source from ``dict(type='mmkd.X', ...)``, a plain ``dict(config=..., checkpoint=...)``
    (a :class:`FrozenTeacher`), or a built source."""
    if isinstance(cfg, TeacherSource):
        return cfg
    if isinstance(cfg, dict) and 'type' in cfg:
        source = TEACHERS.build(cfg)
        if not isinstance(source, TeacherSource):
            raise TypeError(f'{config_key} type "{cfg["type"]}" is not an mmkd.teachers.TeacherSource')
        return source
    if not isinstance(cfg, dict) or 'config' not in cfg:
        raise KeyError(f'{config_key} must be dict(config=..., checkpoint=...) naming the teacher\'s '
                       'mmdet config and trained weights')
    return TEACHERS.build(dict(cfg, type='mmkd.FrozenTeacher', config_key=config_key))
