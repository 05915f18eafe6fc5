"""Online distillation: a student and a peer detector teach each other."""
from typing import Optional, Sequence

import torch
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.hooks import DistillationHook
from mmkd.registry import HOOKS
from mmkd.teachers import PeerTeacher


@HOOKS.register_module()
class OnlineDistillationHook(DistillationHook):
    """Deep mutual learning: :class:`DistillationHook` with a :class:`mmkd.teachers.PeerTeacher`.

    The student and a peer train together (one backward, the peer in the
    student's optimizer and LR schedule) and each distils from the other's
    detached outputs; the peer stays outside ``runner.model`` and is saved
    under ``checkpoint['mmkd']['peer']`` (see :func:`export_peer_checkpoint`).
    The loss schedule scales the distillation terms only; once it reaches 0
    the peer stops training. mmdet hooks that act on ``runner.model`` (EMA,
    ``YOLOXModeSwitchHook``) do not act on the peer.

    Zhang et al., "Deep Mutual Learning", CVPR 2018; Anil et al., "Large
    Scale Distributed Neural Network Training through Online Distillation",
    ICLR 2018.

    Args:
        peer, peer_distill, peer_loss_weight, evaluate_peer: see
            :class:`mmkd.teachers.PeerTeacher`.
        distill: entries of the student learning from the peer.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, peer: dict, distill: Sequence[dict], peer_distill: Optional[Sequence[dict]] = None,
                 peer_loss_weight: float = 1.0, evaluate_peer: bool = True, **kwargs) -> None:
        source = PeerTeacher(peer, distill, peer_distill, peer_loss_weight, evaluate_peer)
        super().__init__(teacher=source, distill=distill, **kwargs)


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
