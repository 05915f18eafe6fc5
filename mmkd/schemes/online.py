"""Online distillation: a student and a peer detector teach each other."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.engine.hooks.sync_norm_hook import get_norm_states
from mmdet.utils import all_reduce_dict
from mmengine.dist import is_distributed
from mmengine.runner.checkpoint import _load_checkpoint, weights_to_cpu
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import Distiller
from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.teacher import build_detector, load_detector_config, load_weights
from mmkd.hooks import DistillationHook
from mmkd.registry import HOOKS
from .utils import detach_tensors, eval_mode


@HOOKS.register_module()
class OnlineDistillationHook(DistillationHook):
    """Deep mutual learning: the student and a peer train together and teach each other.

    Both detectors see the same batch (the student's, after its data
    preprocessor and batch augments) and each distils from the other's
    detached outputs (``sg``: stop-gradient)::

        L = L_det(S) + sum_e D_e(S, sg(P))                    # the student
          + lambda_P * L_det(P) + sum_e D_e'(P, sg(S))        # the peer

    One backward of ``L`` trains both: the peer's parameters (and the
    adapters of both directions) join the student's optimizer and LR
    schedule; the peer's detection losses are logged as ``loss_peer_*``.
    The peer stays outside ``runner.model`` so the student's checkpoint is a
    plain mmdet checkpoint; the peer's weights and its distillation modules
    are saved under ``checkpoint['mmkd']`` (``peer``, ``peer_distiller``) and
    restored on resume, and :func:`export_peer_checkpoint` turns them into a
    plain mmdet checkpoint. With ``evaluate_peer`` the peer is evaluated after
    every validation of the student (``val/peer/<metric>`` in the logs; under
    DDP its BN statistics are averaged over ranks first, like mmdet's
    ``SyncNormHook`` does for the student).

    The loss schedule scales the distillation terms only; once it reaches 0
    (``stop_epoch``/``stop_iter``) the peer stops training. mmdet hooks that act
    on ``runner.model`` (EMA, ``YOLOXModeSwitchHook``) do not act on the peer.

    Zhang et al., "Deep Mutual Learning", CVPR 2018; Anil et al., "Large
    Scale Distributed Neural Network Training through Online Distillation"
    (codistillation), ICLR 2018.

    Args:
        peer: ``dict(config=PATH, checkpoint=None)``: the peer's mmdet config;
            without a checkpoint it starts from its ``init_weights()``.
        distill: entries of the student learning from the peer
            (``student=`` a student path, ``teacher=`` a peer path).
        peer_distill: entries of the peer learning from the student
            (``student=`` a peer path, ``teacher=`` a student path). Default:
            ``distill`` mirrored, each named ``peer_<name>``.
        peer_loss_weight: ``lambda_P``, the weight of the peer's detection losses.
        evaluate_peer: evaluate the peer after each validation of the student.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, peer: dict, distill: Sequence[dict], peer_distill: Optional[Sequence[dict]] = None,
                 peer_loss_weight: float = 1.0, evaluate_peer: bool = True, **kwargs) -> None:
        super().__init__(teacher=peer, distill=distill, **kwargs)
        self.peer_distiller = Distiller(peer_distill if peer_distill is not None else self._mirrored(distill))
        shared = sorted({e.name for e in self.distiller.entries} & {e.name for e in self.peer_distiller.entries})
        if shared:
            raise ValueError(f'distill and peer_distill share the entry name(s) {shared}: give each a unique name=')
        self.peer_loss_weight = peer_loss_weight
        self.evaluate_peer = evaluate_peer
        self._peer_step: Optional[Tuple[dict, dict]] = None

    @staticmethod
    def _checked_teacher_cfg(teacher: Optional[dict]) -> dict:
        if not isinstance(teacher, dict) or 'config' not in teacher:
            raise KeyError('peer must be dict(config=..., checkpoint=None) naming the peer\'s mmdet config')
        return teacher

    def _mirrored(self, distill: Sequence[dict]) -> List[dict]:
        return [dict(cfg, name=f'peer_{entry.name}', student=cfg['teacher'], teacher=cfg['student'])
                for cfg, entry in zip(distill, self.distiller.entries)]

    # ------------------------------------------------------------------ set-up
    def build_teacher(self, runner, student: nn.Module, device: torch.device) -> Tuple[nn.Module, dict]:
        """The trainable peer, from its checkpoint or freshly initialised."""
        peer = build_detector(load_detector_config(self.teacher_cfg['config'], 'peer.config'))
        checkpoint = self.teacher_cfg.get('checkpoint')
        if checkpoint:
            meta = load_weights(peer, checkpoint, 'peer.checkpoint')
        else:
            peer.init_weights()
            meta = {}
        return peer.to(device).train(), meta

    def set_up(self, runner) -> None:
        super().set_up(runner)
        self.peer_distiller.to(next(self.teacher.parameters()).device)
        self._peer_call = self.train_with_student(runner, self.teacher)
        self._peer_distiller_call = self.train_with_student(runner, self.peer_distiller)

    def describe_teacher(self) -> str:
        start = self.teacher_cfg.get('checkpoint') or 'scratch'
        n_params = sum(p.numel() for p in self.teacher.parameters()) / 1e6
        return (f'online peer {self.teacher_cfg["config"]} from {start} '
                f'(trained with the student, {n_params:.2f} M params)')

    def _check_record_paths(self, student: nn.Module, teacher: Optional[nn.Module] = None,
                            distiller: Optional[Distiller] = None) -> None:
        super()._check_record_paths(student, teacher, distiller)
        if distiller is None:
            super()._check_record_paths(self.teacher, student, self.peer_distiller)

    def student_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('student'), *self.peer_distiller.record_paths('teacher')})

    def teacher_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('teacher'), *self.peer_distiller.record_paths('student')})

    def _probe_and_build_adapters(self, student: nn.Module, device: torch.device) -> List[str]:
        with eval_mode(self.teacher):
            student_records, peer_records = self._probe(student, device)
        size = self.probe_input_size
        return (self.distiller.build_adapters(student_records, peer_records, size)
                + self.peer_distiller.build_adapters(peer_records, student_records, size))

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self.teacher.train()

    # ---------------------------------------------------------------- training
    def teacher_records(self, inputs: Tensor, data_samples: Optional[list],
                        student_records: Dict[str, Any]) -> Dict[str, Any]:
        """The peer's detection losses and records (with gradients); detached records returned."""
        if not self.teacher.training:  # the set-up probe (eval mode)
            return super().teacher_records(inputs, data_samples, student_records)
        with self.teacher_recorder.capture() as records, self._sync_context(self._peer_call):
            losses = self._peer_call(self.convert_inputs(inputs), data_samples, mode='loss')
        self._peer_step = (losses, records)
        return detach_tensors(records)

    def distillation_losses(self, student: nn.Module, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        losses = super().distillation_losses(student, inputs, data_samples)
        ctx = DistillContext(inputs=inputs, data_samples=data_samples, student=self.teacher, teacher=student,
                             student_records=self._peer_step[1],
                             teacher_records=detach_tensors(self.student_recorder.records))
        with self._sync_context(self._peer_distiller_call):
            losses.update(self._peer_distiller_call(ctx))
        return losses

    def compute_losses(self, student: nn.Module, inputs: Tensor, data_samples: list,
                       student_losses: Dict[str, Any]) -> Dict[str, Tensor]:
        """Both directions' distillation losses plus the peer's own detection losses."""
        losses = super().compute_losses(student, inputs, data_samples, student_losses)
        peer_losses, self._peer_step = self._peer_step[0], None
        detection = {_peer_key(key): _scaled(value, self.peer_loss_weight) if 'loss' in key else value
                     for key, value in peer_losses.items()}
        collisions = sorted(set(detection) & set(losses))
        if collisions:
            raise KeyError(f'peer detection losses {collisions} collide with distillation losses; '
                           'rename those distill entries with name=')
        losses.update(detection)
        return losses

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if not (self.evaluate_peer and self.active):
            return
        if is_distributed():  # as mmdet's SyncNormHook does for the student
            self.teacher.load_state_dict(all_reduce_dict(get_norm_states(self.teacher), op='mean'), strict=False)
        with eval_mode(self.teacher):
            peer_metrics = evaluate_detector(self.teacher, runner.val_dataloader, runner.val_evaluator)
        for key, value in peer_metrics.items():
            if isinstance(value, (int, float)):
                runner.message_hub.update_scalar(f'val/peer/{key}', value)
        runner.logger.info(f'mmkd: peer on the val set: {peer_metrics}')

    # ------------------------------------------------------------- checkpoints
    def checkpoint_state(self) -> Dict[str, Any]:
        state = super().checkpoint_state()
        state.update(peer=weights_to_cpu(self.teacher.state_dict()),
                     peer_distiller=weights_to_cpu(self.peer_distiller.state_dict()))
        return state

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        super().load_checkpoint_state(state)
        self.teacher.load_state_dict(state['peer'])
        self.peer_distiller.load_state_dict(state['peer_distiller'])


def _peer_key(key: str) -> str:
    """``loss_cls`` -> ``loss_peer_cls``; other log keys get a ``peer_`` prefix."""
    return f'loss_peer_{key[len("loss_"):]}' if key.startswith('loss_') else f'peer_{key}'


def _scaled(value: Any, weight: float) -> Any:
    return [item * weight for item in value] if isinstance(value, (list, tuple)) else value * weight


def export_peer_checkpoint(checkpoint: str, out_file: str) -> str:
    """Write the peer of an online-distillation checkpoint as a plain mmdet checkpoint.

    ``out_file`` holds ``state_dict`` (the peer's weights) and ``meta`` and
    loads with ``mmdet.apis.init_detector(peer_config, out_file)``.
    """
    loaded = _load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('mmkd') or {}
    if 'peer' not in state:
        raise KeyError(f'{checkpoint} has no checkpoint["mmkd"]["peer"]: it was not saved by '
                       'mmkd.OnlineDistillationHook')
    torch.save(dict(meta=loaded.get('meta', {}), state_dict=state['peer']), out_file)
    return out_file
