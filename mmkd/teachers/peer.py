"""A peer detector that trains with the student and teaches it (online / mutual learning)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.engine.hooks.sync_norm_hook import get_norm_states
from mmdet.utils import all_reduce_dict
from mmengine.dist import is_distributed
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import DistillEntry, Distiller
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.teacher import build_detector, load_detector_config, load_weights
from mmkd.registry import TEACHERS
from mmkd.utils.modules import detach_tensors, eval_mode

from .base import DistillStep, RecordedDetector, TeacherSource
from .checks import check_class_sets, check_record_paths


@TEACHERS.register_module()
class PeerTeacher(TeacherSource):
    """Deep mutual learning: a peer trains with the student and each distils from the other.

    Both see the student's batch; each learns from the other's detached
    outputs::

        L = L_det(S) + sum_e D_e(S, sg(P)) + lambda_P * L_det(P) + sum_e D_e'(P, sg(S))

    The peer and its distillation modules (``peer_distill``) train with the
    student's optimizer; the peer's detection losses are logged as
    ``loss_peer_*``. Saved under ``checkpoint['mmkd']`` as ``peer`` and
    ``peer_distiller``. With ``evaluate_peer`` the peer is evaluated after
    every validation of the student (``val/peer/<metric>``; under DDP its BN
    statistics are averaged over ranks first).

    Args:
        peer: ``dict(config=PATH, checkpoint=None)``; without a checkpoint it
            starts from its ``init_weights()``.
        distill: the student's entries (``teacher=`` paths of the peer);
            mirrored for the peer when ``peer_distill`` is ``None``.
        peer_distill: entries of the peer learning from the student
            (``student=`` a peer path, ``teacher=`` a student path).
        peer_loss_weight: ``lambda_P``.
        evaluate_peer: evaluate the peer after each validation of the student.
    """

    def __init__(self, peer: dict, distill: Sequence[dict], peer_distill: Optional[Sequence[dict]] = None,
                 peer_loss_weight: float = 1.0, evaluate_peer: bool = True) -> None:
        if not isinstance(peer, dict) or 'config' not in peer:
            raise KeyError('peer must be dict(config=..., checkpoint=None) naming the peer\'s mmdet config')
        self.peer_cfg = peer
        self.peer_distiller = Distiller(peer_distill if peer_distill is not None else _mirrored(distill))
        names = {DistillEntry.from_cfg(cfg, index).name for index, cfg in enumerate(distill)}
        shared = sorted(names & {entry.name for entry in self.peer_distiller.entries})
        if shared:
            raise ValueError(f'distill and peer_distill share the entry name(s) {shared}: give each a unique name=')
        self.peer_loss_weight = peer_loss_weight
        self.evaluate_peer = evaluate_peer
        self._detection: Optional[Dict[str, Any]] = None

    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        self.distiller = distiller
        peer = build_detector(load_detector_config(self.peer_cfg['config'], 'peer.config'))
        checkpoint = self.peer_cfg.get('checkpoint')
        if checkpoint:
            meta = load_weights(peer, checkpoint, 'peer.checkpoint', 'the peer config')
        else:
            peer.init_weights()
            meta = {}
        self.model = peer.to(device).train()
        check_record_paths(distiller, student, self.model)
        check_record_paths(self.peer_distiller, self.model, student)
        check_class_sets(distiller, student, self.model, meta, runner)
        paths = {*distiller.record_paths('teacher'), *self.peer_distiller.record_paths('student')}
        self.recorded = RecordedDetector(self.model, paths, 'distill[].teacher', student)
        self.peer_distiller.to(device)

    def describe(self) -> str:
        start = self.peer_cfg.get('checkpoint') or 'scratch'
        n_params = sum(p.numel() for p in self.model.parameters()) / 1e6
        return (f'online peer {self.peer_cfg["config"]} from {start} '
                f'(trained with the student, {n_params:.2f} M params)')

    def student_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('student'), *self.peer_distiller.record_paths('teacher')})

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        """The peer's records of a forward without gradients, in eval mode."""
        with eval_mode(self.model):
            return self.recorded.records(inputs, data_samples, student_records)

    def build_adapters(self, student_records: Dict[str, Any], teacher_records: Any,
                       input_size: Tuple[int, int]) -> List[str]:
        return (self.distiller.build_adapters(student_records, teacher_records, input_size)
                + self.peer_distiller.build_adapters(teacher_records, student_records, input_size))

    def losses(self, step: DistillStep) -> Dict[str, Tensor]:
        """The peer's training forward, then both directions' distillation losses."""
        with self.recorded.recorder.capture() as records:
            self._detection = step.run(self.model, self.recorded.convert_inputs(step.inputs), step.data_samples,
                                       mode='loss')
        losses = step.run(self.distiller, step.context(self.model, detach_tensors(records)))
        reverse = DistillContext(inputs=step.inputs, data_samples=step.data_samples, student=self.model,
                                 teacher=step.student, student_records=records,
                                 teacher_records=detach_tensors(step.student_records))
        losses.update(step.run(self.peer_distiller, reverse))
        return losses

    def extra_losses(self, step: DistillStep) -> Dict[str, Any]:
        """The peer's detection losses, weighted by ``peer_loss_weight``, as ``loss_peer_*``."""
        detection, self._detection = self._detection, None
        return {_peer_key(key): _scaled(value, self.peer_loss_weight) if 'loss' in key else value
                for key, value in detection.items()}

    def trainable_modules(self) -> List[nn.Module]:
        return [self.model, self.peer_distiller]

    def evaluated_models(self) -> Dict[str, nn.Module]:
        return {'peer': self.model}

    def before_train(self, runner) -> None:
        self.model.train()

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]]) -> None:
        if not self.evaluate_peer:
            return
        if is_distributed():  # as mmdet's SyncNormHook does for the student
            self.model.load_state_dict(all_reduce_dict(get_norm_states(self.model), op='mean'), strict=False)
        with eval_mode(self.model):
            peer_metrics = evaluate_detector(self.model, runner.val_dataloader, runner.val_evaluator)
        for key, value in peer_metrics.items():
            if isinstance(value, (int, float)):
                runner.message_hub.update_scalar(f'val/peer/{key}', value)
        runner.logger.info(f'mmkd: peer on the val set: {peer_metrics}')

    def after_train(self, runner) -> None:
        self.recorded.recorder.detach()

    def state_dict(self) -> Dict[str, Any]:
        return dict(super().state_dict(), teacher=dict(self.peer_cfg), peer=weights_to_cpu(self.model.state_dict()),
                    peer_distiller=weights_to_cpu(self.peer_distiller.state_dict()))

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.model.load_state_dict(state['peer'])
        self.peer_distiller.load_state_dict(state['peer_distiller'])


def _mirrored(distill: Sequence[dict]) -> List[dict]:
    return [dict(cfg, name=f'peer_{DistillEntry.from_cfg(cfg, index).name}', student=cfg['teacher'],
                 teacher=cfg['student']) for index, cfg in enumerate(distill)]


def _peer_key(key: str) -> str:
    """``loss_cls`` -> ``loss_peer_cls``; other log keys get a ``peer_`` prefix."""
    return f'loss_peer_{key[len("loss_"):]}' if key.startswith('loss_') else f'peer_{key}'


def _scaled(value: Any, weight: float) -> Any:
    return [item * weight for item in value] if isinstance(value, (list, tuple)) else value * weight
