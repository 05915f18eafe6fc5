"""Per-prior view of a dense detection head's forward output.

A dense head returns one map per feature level for each output kind (class
logits, box regression, objectness). :func:`parse_dense_outputs` flattens and
concatenates them over levels in the order mmdet's prior generators list the
priors, so row ``i`` of every tensor belongs to prior ``i``.
"""
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import (AnchorHead, GFLHead, RTMDetHead,
                                      YOLOXHead)
from mmdet.models.task_modules.prior_generators import MlvlPointGenerator
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor, nn

LevelSizes = List[Tuple[int, int]]
Parser = Callable[[nn.Module, Sequence], 'DenseOutputs']
_SUPPORTED = ('Supported heads: YOLOXHead, RTMDetHead, RTMDetSepBNHead, GFLHead, RetinaHead '
              'and other sigmoid AnchorHead subclasses whose forward returns '
              '(cls_scores, bbox_preds).')


@dataclass
class DenseOutputs:
    """A dense head's predictions flattened to one row per prior.

    Every tensor is fp32, whatever precision the head ran in; ``B`` images,
    ``N`` priors over all levels, ``C`` classes.

    Attributes:
        cls_logits: ``(B, N, C)`` class logits (sigmoid heads only).
        bbox_preds: ``(B, N, 4)`` raw regression output, or
            ``(B, N, 4 * (reg_max + 1))`` edge distributions for GFL.
        objectness: ``(B, N)`` objectness logits (YOLOX) or ``None``.
        priors: ``(N, 4)`` mmdet priors of the head: ``(x, y, stride_w,
            stride_h)`` points for YOLOX / RTMDet, ``xyxy`` anchors for
            RetinaNet / GFL.
        strides: ``(N,)`` horizontal stride of each prior's level.
        level_sizes: ``(H, W)`` of each level, in order.
        head: the head that produced the outputs (used for decoding).
        decoder: ``decoder(outputs) -> (B, N, 4)`` boxes, set by the parser.
    """
    cls_logits: Tensor
    bbox_preds: Tensor
    objectness: Optional[Tensor]
    priors: Tensor
    strides: Tensor
    level_sizes: LevelSizes
    head: nn.Module = field(repr=False, compare=False)
    decoder: Callable[['DenseOutputs'], Tensor] = field(repr=False, compare=False)

    @property
    def batch_size(self) -> int:
        return self.bbox_preds.shape[0]

    @property
    def num_priors(self) -> int:
        return self.bbox_preds.shape[1]

    @property
    def num_classes(self) -> int:
        return self.cls_logits.shape[2]

    @property
    def reg_max(self) -> Optional[int]:
        """``reg_max`` of a distribution head (GFL), else ``None``."""
        return self.head.reg_max if isinstance(self.head, GFLHead) else None

    def prior_centers(self) -> Tensor:
        """``(N, 2)`` prior points, or anchor centres for anchor heads."""
        if _has_point_priors(self.head):
            return self.priors[:, :2]
        return (self.priors[:, :2] + self.priors[:, 2:]) / 2

    def scores(self) -> Tensor:
        """``(B, N, C)`` class probabilities, times objectness for YOLOX."""
        scores = self.cls_logits.sigmoid()
        if self.objectness is not None:
            scores = scores * self.objectness.sigmoid().unsqueeze(-1)
        return scores

    def decoded_boxes(self, keep: Optional[Tensor] = None) -> Tensor:
        """Boxes ``x1, y1, x2, y2`` in input pixels (unclipped).

        Args:
            keep: optional ``(B, N)`` mask; only those priors are decoded.

        Returns:
            Tensor: ``(B, N, 4)``, or ``(K, 4)`` for the ``K`` kept priors.
        """
        if keep is None:
            return self.decoder(self)
        prior_index = keep.nonzero(as_tuple=True)[1]
        # a one-image view with only what the decoders read
        kept = replace(self, bbox_preds=self.bbox_preds[keep][None],
                       priors=self.priors[prior_index], strides=self.strides[prior_index])
        return self.decoder(kept)[0]

    def edge_logits(self, keep: Optional[Tensor] = None) -> Tensor:
        """Per-edge distribution logits of a GFL head: ``(B, N, 4, reg_max + 1)``,
        or ``(K, 4, reg_max + 1)`` where the optional ``(B, N)`` mask
        ``keep`` is True."""
        if self.reg_max is None:
            raise TypeError(f'{type(self.head).__name__} does not predict edge '
                            'distributions; only GFLHead-style heads do.')
        preds = self.bbox_preds if keep is None else self.bbox_preds[keep]
        return preds.reshape(*preds.shape[:-1], 4, self.reg_max + 1)

    def detach(self) -> 'DenseOutputs':
        """A copy whose tensors are cut from the autograd graph."""
        objectness = None if self.objectness is None else self.objectness.detach()
        return replace(self, cls_logits=self.cls_logits.detach(),
                       bbox_preds=self.bbox_preds.detach(), objectness=objectness)


def parse_dense_outputs(head: nn.Module, outputs: Sequence) -> DenseOutputs:
    """Flatten a supported dense head's forward output over levels.

    Args:
        head: the head module (``YOLOXHead``, ``RTMDetHead`` /
            ``RTMDetSepBNHead``, ``GFLHead``, ``RetinaHead`` or another
            sigmoid ``AnchorHead`` whose forward returns
            ``(cls_scores, bbox_preds)``).
        outputs: what ``head.forward`` returned, one tensor per level in each
            element.

    Returns:
        DenseOutputs: the per-prior tensors and the head's priors.
    """
    parser, num_parts = _find_parser(head)
    if not getattr(head, 'use_sigmoid_cls', False):
        raise TypeError(f'{type(head).__name__} uses a softmax classifier; '
                        'mmkd response KD supports sigmoid dense heads only.')
    if len(outputs) != num_parts or any(len(part) != head.prior_generator.num_levels
                                        for part in outputs):
        raise ValueError(f'{type(head).__name__} output should be {num_parts} '
                         f'sequences of {head.prior_generator.num_levels} level maps, '
                         f'got {_describe(outputs)}. {_SUPPORTED}')
    return parser(head, outputs)


def pair_dense_outputs(student_head: nn.Module, student_outputs: Sequence,
                       teacher_head: nn.Module,
                       teacher_outputs: Sequence) -> Tuple[DenseOutputs, DenseOutputs]:
    """Parse student and teacher outputs and check they pair prior by prior.

    Returns:
        tuple: ``(student, teacher)`` outputs; the teacher's are detached.

    Raises:
        ValueError: when the heads have different ``num_classes`` or predict
            on different priors (level sizes, strides or anchor shapes).
    """
    student = parse_dense_outputs(student_head, student_outputs)
    teacher = parse_dense_outputs(teacher_head, teacher_outputs).detach()
    names = type(student_head).__name__, type(teacher_head).__name__
    if student.num_classes != teacher.num_classes:
        raise ValueError(
            f'Response KD pairs class channels one to one, but the student '
            f'{names[0]} has num_classes={student.num_classes} and the teacher '
            f'{names[1]} has num_classes={teacher.num_classes}.')
    if student.level_sizes != teacher.level_sizes or not torch.equal(
            student.priors, teacher.priors):
        raise ValueError(
            'Response KD pairs predictions per prior, but the student '
            f'{names[0]} predicts on {student.num_priors} priors (level sizes '
            f'{student.level_sizes}, strides {_level_strides(student_head)}) and '
            f'the teacher {names[1]} on {teacher.num_priors} priors (level sizes '
            f'{teacher.level_sizes}, strides {_level_strides(teacher_head)}). Give '
            'both heads the same strides and prior (anchor) settings.')
    return student, teacher


def _find_parser(head: nn.Module) -> Tuple[Parser, int]:
    """The parser of the closest supported base class and its output count."""
    for cls in type(head).__mro__:
        if cls in _PARSERS:
            return _PARSERS[cls]
    raise TypeError(f'Response KD does not support {type(head).__name__}. {_SUPPORTED}')


def _parse_yolox(head: YOLOXHead, outputs: Sequence) -> DenseOutputs:
    cls_scores, bbox_preds, objectnesses = outputs
    objectness = _flatten_levels(objectnesses, 1).squeeze(-1)
    return _build(head, cls_scores, bbox_preds, _decode_yolox, objectness=objectness)


def _parse_rtmdet(head: RTMDetHead, outputs: Sequence) -> DenseOutputs:
    return _build(head, *outputs, _decode_with_coder)


def _parse_gfl(head: GFLHead, outputs: Sequence) -> DenseOutputs:
    return _build(head, *outputs, _decode_distribution, box_channels=4 * (head.reg_max + 1))


def _parse_anchor(head: AnchorHead, outputs: Sequence) -> DenseOutputs:
    return _build(head, *outputs, _decode_with_coder,
                  box_channels=head.bbox_coder.encode_size)


_PARSERS: Dict[type, Tuple[Parser, int]] = {
    YOLOXHead: (_parse_yolox, 3),
    RTMDetHead: (_parse_rtmdet, 2),
    GFLHead: (_parse_gfl, 2),
    AnchorHead: (_parse_anchor, 2),
}


def _build(head: nn.Module, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
           decoder: Callable[[DenseOutputs], Tensor], objectness: Optional[Tensor] = None,
           box_channels: int = 4) -> DenseOutputs:
    level_sizes = [tuple(score.shape[-2:]) for score in cls_scores]
    priors, strides = _grid_priors(head, level_sizes, cls_scores[0].device)
    return DenseOutputs(
        cls_logits=_flatten_levels(cls_scores, head.cls_out_channels),
        bbox_preds=_flatten_levels(bbox_preds, box_channels),
        objectness=objectness,
        priors=priors,
        strides=strides,
        level_sizes=level_sizes,
        head=head,
        decoder=decoder)


def _flatten_levels(maps: Sequence[Tensor], channels: int) -> Tensor:
    """``(B, A*channels, H, W)`` per level -> ``(B, sum(H*W*A), channels)`` in fp32.

    Rows run over locations, then the ``A`` anchors of each location, level
    after level (mmdet's prior order). One copy: levels are joined in
    channel-first layout, so with ``A = 1`` the result is a transposed view.
    """
    batch = maps[0].shape[0]
    joined = torch.cat([m.reshape(batch, -1, channels, m.shape[-2] * m.shape[-1]) for m in maps], -1)
    return joined.permute(0, 3, 1, 2).reshape(batch, -1, channels).float()


def _grid_priors(head: nn.Module, level_sizes: LevelSizes,
                 device: torch.device) -> Tuple[Tensor, Tensor]:
    """``(N, 4)`` priors of all levels and the ``(N,)`` stride of each."""
    generator = head.prior_generator
    kwargs = dict(dtype=torch.float32, device=device)
    if isinstance(generator, MlvlPointGenerator):
        mlvl_priors = generator.grid_priors(level_sizes, with_stride=True, **kwargs)
    else:
        mlvl_priors = generator.grid_priors(level_sizes, **kwargs)
    counts = torch.tensor([len(p) for p in mlvl_priors], device=device)
    level_strides = torch.tensor([float(stride[0]) for stride in generator.strides], device=device)
    return torch.cat(mlvl_priors), torch.repeat_interleave(level_strides, counts)


def _has_point_priors(head: nn.Module) -> bool:
    return isinstance(head.prior_generator, MlvlPointGenerator)


def _decode_yolox(outputs: DenseOutputs) -> Tensor:
    return outputs.head._bbox_decode(outputs.priors, outputs.bbox_preds)


def _decode_with_coder(outputs: DenseOutputs) -> Tensor:
    """Batched ``bbox_coder.decode`` on points (RTMDet) or anchors (RetinaNet)."""
    priors = outputs.prior_centers() if _has_point_priors(outputs.head) else outputs.priors
    return _coder_decode(outputs, priors, outputs.bbox_preds)


def _decode_distribution(outputs: DenseOutputs) -> Tensor:
    """GFL: integral of each edge distribution, times stride, from anchor centres."""
    distances = outputs.head.integral(outputs.bbox_preds.reshape(-1, outputs.bbox_preds.shape[-1]))
    distances = distances.reshape(outputs.batch_size, -1, 4) * outputs.strides[:, None]
    return _coder_decode(outputs, outputs.prior_centers(), distances)


def _coder_decode(outputs: DenseOutputs, priors: Tensor, deltas: Tensor) -> Tensor:
    batch, num_priors = outputs.batch_size, outputs.num_priors
    boxes = outputs.head.bbox_coder.decode(priors.repeat(batch, 1), deltas.reshape(-1, deltas.shape[-1]))
    return get_box_tensor(boxes).reshape(batch, num_priors, 4)


def _level_strides(head: nn.Module) -> List[int]:
    return [stride[0] for stride in head.prior_generator.strides]


def _describe(outputs: Sequence) -> str:
    return f'{len(outputs)} parts of ' + ', '.join(
        str(len(part)) if isinstance(part, (list, tuple)) else type(part).__name__
        for part in outputs)
