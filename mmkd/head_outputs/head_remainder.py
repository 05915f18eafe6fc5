"""Run a dense head from a split point inside its towers to its outputs.

A dense head keeps two towers of stacked convolutions (classification and
regression) and predictors on top. Cross-head distillation (CrossKD) feeds
the student's tower features after ``k`` convolutions into the teacher's
remaining ``k..n-1`` convolutions and predictors. :func:`run_remainder` does
that for each supported head family exactly as the family's ``forward`` would
from that point (scales, ``exp``, strides, YOLOX's per-level towers and
objectness), so the result has the format of ``head.forward`` and parses with
:func:`~mmkd.head_outputs.parse_dense_outputs`.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

from mmdet.models.dense_heads import ATSSHead, GFLHead, RetinaHead, RTMDetHead, RTMDetSepBNHead, YOLOXHead
from mmdet.models.layers.transformer import inverse_sigmoid
from mmdet.models.utils import sigmoid_geometric_mean
from torch import Tensor, nn

BRANCHES = ('cls', 'reg')
Predictor = Callable[[nn.Module, int, Tensor, Tensor], Tuple[Tensor, ...]]


@dataclass(frozen=True)
class HeadLayout:
    """Where a head family keeps its towers and predictors, and how it predicts.

    Attributes:
        towers: attribute names of the classification and regression towers.
        predictors: attribute names of the first layer after each tower.
        per_level: whether every level has its own towers and predictors
            (``ModuleList`` of levels) rather than one set shared by all levels.
        predict: ``predict(head, level, cls_feat, reg_feat)``: the level's
            outputs from the features at the tops of the towers.
    """
    towers: Tuple[str, str]
    predictors: Tuple[str, str]
    per_level: bool
    predict: Predictor


def _predict_yolox(head: YOLOXHead, level: int, cls_feat: Tensor, reg_feat: Tensor) -> Tuple[Tensor, ...]:
    return (head.multi_level_conv_cls[level](cls_feat), head.multi_level_conv_reg[level](reg_feat),
            head.multi_level_conv_obj[level](reg_feat))


def _predict_gfl(head: GFLHead, level: int, cls_feat: Tensor, reg_feat: Tensor) -> Tuple[Tensor, ...]:
    return head.gfl_cls(cls_feat), head.scales[level](head.gfl_reg(reg_feat)).float()


def _predict_atss(head: ATSSHead, level: int, cls_feat: Tensor, reg_feat: Tensor) -> Tuple[Tensor, ...]:
    return (head.atss_cls(cls_feat), head.scales[level](head.atss_reg(reg_feat)).float(),
            head.atss_centerness(reg_feat))


def _predict_retina(head: RetinaHead, level: int, cls_feat: Tensor, reg_feat: Tensor) -> Tuple[Tensor, ...]:
    return head.retina_cls(cls_feat), head.retina_reg(reg_feat)


def _rtm_score(head: RTMDetHead, cls_score: Tensor, objectness: Callable[[], Tensor]) -> Tensor:
    if not head.with_objectness:
        return cls_score
    return inverse_sigmoid(sigmoid_geometric_mean(cls_score, objectness()))


def _predict_rtmdet(head: RTMDetHead, level: int, cls_feat: Tensor, reg_feat: Tensor) -> Tuple[Tensor, ...]:
    cls_score = _rtm_score(head, head.rtm_cls(cls_feat), lambda: head.rtm_obj(reg_feat))
    stride = head.prior_generator.strides[level][0]
    return cls_score, head.scales[level](head.rtm_reg(reg_feat).exp()).float() * stride


def _predict_rtmdet_sep_bn(head: RTMDetSepBNHead, level: int, cls_feat: Tensor,
                           reg_feat: Tensor) -> Tuple[Tensor, ...]:
    cls_score = _rtm_score(head, head.rtm_cls[level](cls_feat), lambda: head.rtm_obj[level](reg_feat))
    reg_dist = head.rtm_reg[level](reg_feat)
    if head.exp_on_reg:
        reg_dist = reg_dist.exp()
    return cls_score, reg_dist * head.prior_generator.strides[level][0]


_SHARED_TOWERS = ('cls_convs', 'reg_convs')
# Most derived class first: the first match in a head's MRO wins.
_LAYOUTS: Dict[type, HeadLayout] = {
    YOLOXHead: HeadLayout(('multi_level_cls_convs', 'multi_level_reg_convs'),
                          ('multi_level_conv_cls', 'multi_level_conv_reg'), True, _predict_yolox),
    RTMDetSepBNHead: HeadLayout(_SHARED_TOWERS, ('rtm_cls', 'rtm_reg'), True, _predict_rtmdet_sep_bn),
    RTMDetHead: HeadLayout(_SHARED_TOWERS, ('rtm_cls', 'rtm_reg'), False, _predict_rtmdet),
    GFLHead: HeadLayout(_SHARED_TOWERS, ('gfl_cls', 'gfl_reg'), False, _predict_gfl),
    ATSSHead: HeadLayout(_SHARED_TOWERS, ('atss_cls', 'atss_reg'), False, _predict_atss),
    RetinaHead: HeadLayout(_SHARED_TOWERS, ('retina_cls', 'retina_reg'), False, _predict_retina),
}


def head_layout(head: nn.Module) -> HeadLayout:
    """The layout of ``head``'s closest supported base class."""
    for cls in type(head).__mro__:
        if cls in _LAYOUTS:
            return _LAYOUTS[cls]
    names = ', '.join(cls.__name__ for cls in _LAYOUTS)
    raise TypeError(f'cross-head distillation does not support {type(head).__name__}; supported heads: {names}')


def num_levels(head: nn.Module) -> int:
    return head.prior_generator.num_levels


def stacked_convs(head: nn.Module) -> int:
    """Number of convolutions in each tower (of each level)."""
    return len(_tower(head, head_layout(head), 0, 0))


def split_paths(head: nn.Module, split: int, branch: str) -> List[str]:
    """Module paths, relative to ``head``, whose inputs are ``branch``'s
    features after ``split`` tower convolutions.

    Their inputs over one forward, in call order, are the per-level features:
    one path per level for per-level towers, one path called once per level
    for shared towers.
    """
    layout = head_layout(head)
    index = BRANCHES.index(branch)
    name = layout.towers[index] if split < stacked_convs(head) else layout.predictors[index]
    suffix = f'.{split}' if split < stacked_convs(head) else ''
    if layout.per_level:
        return [f'{name}.{level}{suffix}' for level in range(num_levels(head))]
    return [f'{name}{suffix}']


def run_remainder(head: nn.Module, split: int, cls_feats: Sequence[Tensor],
                  reg_feats: Sequence[Tensor]) -> Tuple[List[Tensor], ...]:
    """``head``'s outputs from its tower features after ``split`` convolutions.

    Args:
        head: a supported dense head (see :func:`head_layout`).
        split: how many tower convolutions the features have been through.
        cls_feats, reg_feats: one ``(B, C, H, W)`` map per level.

    Returns:
        tuple: one list of per-level maps per output kind, as ``head.forward``.
    """
    layout = head_layout(head)
    levels = []
    for level, (cls_feat, reg_feat) in enumerate(zip(cls_feats, reg_feats)):
        cls_feat = _run(_tower(head, layout, 0, level)[split:], cls_feat)
        reg_feat = _run(_tower(head, layout, 1, level)[split:], reg_feat)
        levels.append(layout.predict(head, level, cls_feat, reg_feat))
    return tuple(list(kind) for kind in zip(*levels))


def _tower(head: nn.Module, layout: HeadLayout, index: int, level: int) -> nn.ModuleList:
    tower = getattr(head, layout.towers[index])
    return tower[level] if layout.per_level else tower


def _run(layers: nn.ModuleList, x: Tensor) -> Tensor:
    for layer in layers:
        x = layer(x)
    return x
