"""Per-prior view of a dense detection head's forward output.

A dense head returns one map per feature level for each output kind (class
logits, box regression, score factor). :func:`parse_dense_outputs` flattens and
concatenates them over levels in the order mmdet's prior generators list the
priors, so row ``i`` of every tensor belongs to prior ``i``.

Supported heads, all with sigmoid classifiers (``use_sigmoid_cls=True``):

- ``YOLOXHead``: point priors, ``_bbox_decode``, objectness score factor.
- ``RTMDetHead``, ``RTMDetSepBNHead``: point priors, distances in pixels
  decoded by ``DistancePointBBoxCoder``.
- ``FCOSHead``: point priors, distances (times the stride with
  ``norm_on_bbox``) decoded by ``DistancePointBBoxCoder``, centerness score
  factor.
- ``ATSSHead``: anchors, ``DeltaXYWHBBoxCoder`` deltas, centerness score
  factor.
- ``GFLHead``: anchors, edge distributions (their integral times the stride,
  from the anchor centres).
- ``RetinaHead`` and other ``AnchorHead`` subclasses whose forward returns
  ``(cls_scores, bbox_preds)``: anchors, the head's ``bbox_coder``.

A subclass of a supported head is parsed like its closest supported base and
must return the same outputs. :func:`check_dense_head` names what is wrong
with any other head.
"""
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import AnchorHead, ATSSHead, FCOSHead, GFLHead, RTMDetHead, YOLOXHead
from mmdet.models.task_modules.prior_generators import MlvlPointGenerator
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor, nn

LevelSizes = List[Tuple[int, int]]
Parser = Callable[[nn.Module, Sequence], 'DenseOutputs']
_SUPPORTED = ('Supported heads (sigmoid classifiers only): YOLOXHead, RTMDetHead, '
              'RTMDetSepBNHead, FCOSHead, ATSSHead, GFLHead, RetinaHead and other '
              'AnchorHead subclasses whose forward returns (cls_scores, bbox_preds).')


@dataclass
class DenseOutputs:
    """A dense head's predictions flattened to one row per prior.

    Every tensor is fp32, whatever precision the head ran in; ``B`` images,
    ``N`` priors over all levels, ``C`` classes.

    Attributes:
        cls_logits: ``(B, N, C)`` class logits (sigmoid heads only).
        bbox_preds: ``(B, N, 4)`` regression output as the head's decoder
            takes it (FCOS: distances in input pixels, in training mode too),
            or ``(B, N, 4 * (reg_max + 1))`` edge distributions for GFL.
        score_factors: ``(B, N)`` logits of a per-prior score factor, or
            ``None``: YOLOX objectness, FCOS / ATSS centerness. At test time
            mmdet multiplies its sigmoid into every class probability (the
            ``score_factors`` of ``BaseDenseHead.predict_by_feat``).
        priors: ``(N, 4)`` mmdet priors of the head: ``(x, y, stride_w,
            stride_h)`` points for YOLOX / RTMDet / FCOS, ``xyxy`` anchors for
            RetinaNet / ATSS / GFL.
        strides: ``(N,)`` horizontal stride of each prior's level.
        level_sizes: ``(H, W)`` of each level, in order.
        head: the head that produced the outputs (used for decoding).
        decoder: ``decoder(outputs) -> (B, N, 4)`` boxes, set by the parser.
    """
    cls_logits: Tensor
    bbox_preds: Tensor
    score_factors: Optional[Tensor]
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
        r"""``(B, N, C)`` detection scores as mmdet's ``predict_by_feat`` gives them:
        :math:`s_{ic} = \sigma(z_{ic})\,\sigma(f_i)` with ``f`` the score factor
        (objectness, centerness), or :math:`\sigma(z_{ic})` without one."""
        scores = self.cls_logits.sigmoid()
        if self.score_factors is not None:
            scores = scores * self.score_factors.sigmoid().unsqueeze(-1)
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
        score_factors = None if self.score_factors is None else self.score_factors.detach()
        return replace(self, cls_logits=self.cls_logits.detach(),
                       bbox_preds=self.bbox_preds.detach(), score_factors=score_factors)


def parse_dense_outputs(head: nn.Module, outputs: Sequence) -> DenseOutputs:
    """Flatten a supported dense head's forward output over levels.

    Args:
        head: a supported head (see the module docstring).
        outputs: what ``head.forward`` returned, one tensor per level in each
            element. Parse them while the head is in the mode it ran in
            (FCOS scales its distances by the stride in eval mode only).

    Returns:
        DenseOutputs: the per-prior tensors and the head's priors.

    Raises:
        TypeError: for an unsupported or softmax head (see
            :func:`check_dense_head`).
        ValueError: when ``outputs`` is not what the head's parser expects.
    """
    parser, num_parts = _find_parser(head)
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


def check_dense_head(head: nn.Module) -> None:
    """Raise a one-line ``TypeError`` naming ``head``'s class and the supported
    heads unless response KD can parse it: a subclass of a supported head with
    a sigmoid classifier (``use_sigmoid_cls=True``)."""
    _find_parser(head)


def _find_parser(head: nn.Module) -> Tuple[Parser, int]:
    """The parser of the closest supported base class and its output count."""
    name = type(head).__name__
    parser = next((_PARSERS[cls] for cls in type(head).__mro__ if cls in _PARSERS), None)
    if parser is None:
        raise TypeError(f'Response KD does not support {name}. {_SUPPORTED}')
    if not getattr(head, 'use_sigmoid_cls', False):
        raise TypeError(f'Response KD does not support {name} with a softmax classifier '
                        f'(use_sigmoid_cls=False). {_SUPPORTED}')
    return parser


def _parse_yolox(head: YOLOXHead, outputs: Sequence) -> DenseOutputs:
    """``(cls_scores, bbox_preds, objectnesses)``; objectness is the score factor."""
    return _build(head, *outputs, decoder=_decode_yolox)


def _parse_distances(head: RTMDetHead, outputs: Sequence) -> DenseOutputs:
    """``(cls_scores, bbox_preds[, centernesses])`` with point-to-edge distances."""
    return _build(head, *outputs, decoder=_decode_with_coder)


def _parse_fcos(head: FCOSHead, outputs: Sequence) -> DenseOutputs:
    """FCOS distances in input pixels.

    With ``norm_on_bbox`` the head predicts distances in strides and
    multiplies them by the stride in eval mode only; a training head's
    distances are multiplied by their prior's stride here, so that a training
    student pairs with an eval-mode teacher.
    """
    outputs = _parse_distances(head, outputs)
    if head.norm_on_bbox and head.training:
        return replace(outputs, bbox_preds=outputs.bbox_preds * outputs.strides[:, None])
    return outputs


def _parse_gfl(head: GFLHead, outputs: Sequence) -> DenseOutputs:
    return _build(head, *outputs, decoder=_decode_distribution, box_channels=4 * (head.reg_max + 1))


def _parse_anchor(head: AnchorHead, outputs: Sequence) -> DenseOutputs:
    """``(cls_scores, bbox_preds[, centernesses])`` as ``bbox_coder`` deltas."""
    return _build(head, *outputs, decoder=_decode_with_coder, box_channels=head.bbox_coder.encode_size)


_PARSERS: Dict[type, Tuple[Parser, int]] = {
    YOLOXHead: (_parse_yolox, 3),
    RTMDetHead: (_parse_distances, 2),
    FCOSHead: (_parse_fcos, 3),
    ATSSHead: (_parse_anchor, 3),
    GFLHead: (_parse_gfl, 2),
    AnchorHead: (_parse_anchor, 2),
}


def _build(head: nn.Module, cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor],
           score_factors: Optional[Sequence[Tensor]] = None, *,
           decoder: Callable[[DenseOutputs], Tensor], box_channels: int = 4) -> DenseOutputs:
    level_sizes = [tuple(score.shape[-2:]) for score in cls_scores]
    priors, strides = _grid_priors(head, level_sizes, cls_scores[0].device)
    return DenseOutputs(
        cls_logits=_flatten_levels(cls_scores, head.cls_out_channels),
        bbox_preds=_flatten_levels(bbox_preds, box_channels),
        score_factors=None if score_factors is None else _flatten_levels(score_factors, 1)[..., 0],
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
    """Batched ``bbox_coder.decode`` on points (RTMDet, FCOS) or anchors
    (RetinaNet, ATSS), as ``predict_by_feat`` decodes (without clipping)."""
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
