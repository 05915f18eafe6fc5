"""Label assignment distillation: the teacher's predictions choose the student's positive priors."""
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.hooks import Hook
from torch import Tensor, nn

from mmkd.engine.teacher import TeacherInputConverter, build_frozen_detector
from mmkd.head_outputs import parse_dense_outputs
from mmkd.hooks.distillation_hook import forward_arguments, is_training_run
from mmkd.recorders.callbacks import BoundModuleHook
from mmkd.registry import HOOKS
from mmkd.utils.modules import find_module, unwrap

_CONFIG_KEY = 'TeacherAssignmentHook'


@HOOKS.register_module()
class TeacherAssignmentHook(Hook):
    r"""Assign the student's training targets from a frozen teacher's predictions.

    Label assignment distillation (C.-H. Nguyen et al., "Improving Object
    Detection by Label Assignment Distillation", WACV 2022): a dynamic
    assigner picks each ground-truth box's positive priors by the quality of
    the *predictions* at them. Early in training the student's own
    predictions are noise, so its positives are too. Here the teacher's
    predictions on the same batch go to the assigner instead. The student's
    losses stay its own, computed against those targets.

    For YOLOX's SimOTA (``YOLOXHead._get_targets_single``) the assigner's
    cost takes the teacher's boxes :math:`\hat b^T` and scores
    :math:`\sqrt{\sigma(z^T)\,\sigma(o^T)}`. Every target then follows from
    the teacher's assignment: the positive set, the objectness targets, the
    boxes and the IoU-aware class target
    :math:`\mathrm{IoU}(\hat b^T, b_{gt})`. The teacher's and the student's
    priors must coincide: same strides, and the batch the student sees.

    There is no loss weight. The teacher runs once per training step (without
    gradients) before the student's forward. The checkpoint stays a plain
    mmdet checkpoint, and nothing changes at test time. It composes with
    :class:`DistillationHook` (each builds its own copy of the teacher).

    Args:
        teacher: ``dict(config=..., checkpoint=...)`` of a trained detector
            with a head of the student's type.
        head: module path of the dense head on both detectors.
    """
    priority = 'NORMAL'
    supported_heads = ('YOLOXHead',)

    def __init__(self, teacher: dict, head: str = 'bbox_head') -> None:
        if not isinstance(teacher, dict) or 'config' not in teacher or 'checkpoint' not in teacher:
            raise KeyError(f'{_CONFIG_KEY}.teacher must be dict(config=..., checkpoint=...) naming a trained '
                           'detector with a head of the student\'s type')
        self.teacher_cfg = teacher
        self.head_path = head
        self.active = False
        self._handles: List[Any] = []

    def before_run(self, runner) -> None:
        self.active = is_training_run(runner)
        if not self.active:
            return
        student = unwrap(runner.model)
        student_head = self._supported_head(student, 'student')
        device = next(student.parameters()).device
        self.teacher, _, _ = build_frozen_detector(self.teacher_cfg['config'], self.teacher_cfg['checkpoint'],
                                                   f'{_CONFIG_KEY}.teacher', device)
        self.teacher_head = self._supported_head(self.teacher, 'teacher')
        check_same_priors(student_head, self.teacher_head)
        self.convert_inputs = TeacherInputConverter(student.data_preprocessor, self.teacher.data_preprocessor)
        self.targets = TeacherTargets(student_head)
        runner.logger.info(f'mmkd: {_CONFIG_KEY}: the student\'s {type(student_head).__name__} assigns its '
                           f'targets from the predictions of {self.teacher_cfg["checkpoint"]}')

    def _supported_head(self, detector: nn.Module, side: str) -> nn.Module:
        head = find_module(detector, self.head_path, f'{_CONFIG_KEY}.head ({side})')
        if type(head).__name__ not in self.supported_heads:
            raise TypeError(f'{_CONFIG_KEY}.head: the {side}\'s "{self.head_path}" is a {type(head).__name__}; '
                            f'teacher label assignment supports {", ".join(self.supported_heads)} '
                            '(heads whose assigner reads predictions)')
        return head

    def before_train(self, runner) -> None:
        if not self.active:
            return
        student = unwrap(runner.model)
        self.targets.install()
        self._handles = [
            student.register_forward_pre_hook(BoundModuleHook(student, self._before_student_forward),
                                              with_kwargs=True),
            student.register_forward_hook(BoundModuleHook(student, self._after_student_forward), with_kwargs=True),
        ]

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self.active:
            self.targets.remove()

    def _before_student_forward(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        inputs, _, mode = forward_arguments(args, kwargs)
        if mode == 'loss' and module.training:
            self.targets.set(self.teacher_predictions(inputs))

    def _after_student_forward(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        self.targets.finish()

    @torch.no_grad()
    def teacher_predictions(self, inputs: Tensor) -> Dict[str, Tensor]:
        """The teacher head's per-prior predictions on the student's batch, as the assigner reads them."""
        features = self.teacher.extract_feat(self.convert_inputs(inputs))
        outputs = parse_dense_outputs(self.teacher_head, self.teacher_head(features))
        return dict(cls_preds=outputs.cls_logits, decoded_bboxes=outputs.decoded_boxes(),
                    objectness=outputs.score_factors)


def check_same_priors(student_head: nn.Module, teacher_head: nn.Module) -> None:
    """The two heads place the same priors and predict the same classes."""
    student_strides = [tuple(s) for s in student_head.prior_generator.strides]
    teacher_strides = [tuple(s) for s in teacher_head.prior_generator.strides]
    if student_strides != teacher_strides:
        raise ValueError(f'{_CONFIG_KEY}.teacher: its head\'s strides {teacher_strides} differ from the '
                         f'student\'s {student_strides}; the teacher must predict at the student\'s priors')
    if student_head.num_classes != teacher_head.num_classes:
        raise ValueError(f'{_CONFIG_KEY}.teacher: its head predicts {teacher_head.num_classes} classes, the '
                         f'student\'s {student_head.num_classes}; assignment needs the same class set')


class TeacherTargets:
    """Stands in for a YOLOX head's ``_get_targets_single`` and hands it the teacher's predictions.

    ``YOLOXHead.loss_by_feat`` assigns image by image, in batch order, through
    ``self._get_targets_single``; while the teacher's predictions of a batch
    are set, the ``k``-th call gets image ``k``'s instead of the student's.
    """

    def __init__(self, head: nn.Module) -> None:
        self.head = head
        self.predictions: Optional[Dict[str, Tensor]] = None
        self.next_image = 0
        self._own: Optional[Callable[..., tuple]] = None

    def install(self) -> None:
        self._own = self.head._get_targets_single
        self.head._get_targets_single = self

    def remove(self) -> None:
        if self._own is not None:
            del self.head._get_targets_single  # the class's method again
            self._own = None

    def set(self, predictions: Dict[str, Tensor]) -> None:
        self.predictions, self.next_image = predictions, 0

    def finish(self) -> None:
        """The student's forward ended: every image of the batch must have been assigned."""
        predictions, self.predictions = self.predictions, None
        if predictions is not None and self.next_image != len(predictions['cls_preds']):
            raise RuntimeError(f'mmkd: {_CONFIG_KEY}: the student\'s head assigned {self.next_image} images of a '
                               f'batch of {len(predictions["cls_preds"])}; it must call _get_targets_single '
                               'once per image, in batch order')

    def __call__(self, priors: Tensor, cls_preds: Tensor, decoded_bboxes: Tensor, objectness: Tensor,
                 *targets: Any, **kwargs: Any) -> tuple:
        if self.predictions is None:
            return self._own(priors, cls_preds, decoded_bboxes, objectness, *targets, **kwargs)
        image, self.next_image = self.next_image, self.next_image + 1
        teacher = {key: value[image] for key, value in self.predictions.items()}
        if teacher['cls_preds'].shape != cls_preds.shape:
            raise RuntimeError(f'mmkd: {_CONFIG_KEY}: the teacher predicts {tuple(teacher["cls_preds"].shape)} '
                               f'(priors, classes) on image {image}, the student {tuple(cls_preds.shape)}')
        return self._own(priors, teacher['cls_preds'].to(cls_preds.dtype),
                         teacher['decoded_bboxes'].to(decoded_bboxes.dtype),
                         teacher['objectness'].to(objectness.dtype), *targets, **kwargs)
