"""Tests of mmkd.losses.response with hand-computed values."""
import functools
import math
from pathlib import Path

import pytest
import torch
from mmdet.models.dense_heads import FCOSHead, GFLHead, RTMDetSepBNHead, YOLOXHead
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from torch import nn
from utils import distill_context, distill_hook_cfg, load_config, train

from mmkd.head_outputs import pair_dense_outputs
from mmkd.losses.functional import softmax_kd
from mmkd.losses.response import BoxKDLoss, DKDLoss, LDLoss, ResponsePair, SigmoidKDLoss
from mmkd.losses.response.functional import binary_kd, dkd_terms
from mmkd.registry import MODELS, build_mmkd_module

STRIDES = [8, 16, 32]
SIZE = 64
LEVELS = [(SIZE // s, SIZE // s) for s in STRIDES]  # 84 priors
BATCH = 2
LN3 = math.log(3.0)


def yolox(num_classes=1):
    return YOLOXHead(num_classes=num_classes, in_channels=4, feat_channels=4, stacked_convs=1,
                     strides=STRIDES)


def gfl(num_classes=1, reg_max=4):
    return GFLHead(
        num_classes=num_classes, in_channels=4, feat_channels=4, stacked_convs=1, reg_max=reg_max,
        norm_cfg=dict(type='BN'),
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8,
                              scales_per_octave=1, strides=STRIDES),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))


def maps(values, requires_grad=False):
    """One ``(B, len(values), H, W)`` constant map per level."""
    values = torch.as_tensor(values, dtype=torch.float32).view(1, -1, 1, 1)
    return [values.expand(BATCH, -1, h, w).clone().requires_grad_(requires_grad) for h, w in LEVELS]


def yolox_outputs(cls, box=(0.0, 0.0, 0.0, 0.0), obj=0.0, requires_grad=False):
    return (maps(cls, requires_grad), maps(box, requires_grad), maps([obj], requires_grad))


def context(student_head, teacher_head, boxes=(), labels=()):
    student, teacher = nn.Module(), nn.Module()
    student.bbox_head, teacher.bbox_head = student_head, teacher_head
    return distill_context([boxes] * BATCH, SIZE, student, teacher, labels=[labels] * BATCH)


def leaves(outputs):
    return [t for level_maps in outputs for t in level_maps]


# --------------------------------------------------------------------- functional


def test_binary_kd_hand_values():
    student, teacher = torch.zeros(1), torch.tensor([2 * LN3])  # q = sigmoid(ln 3) = 0.75 at T=2
    # BCE(0.5, 0.75) = -(0.75 + 0.25) ln 0.5 = ln 2, times T^2 = 4
    torch.testing.assert_close(binary_kd(student, teacher, 2.0), torch.tensor([4 * math.log(2)]))
    # focal factor |0.75 - 0.5|^2
    torch.testing.assert_close(binary_kd(student, teacher, 2.0, beta=2.0),
                               torch.tensor([4 * math.log(2) / 16]))


def test_dkd_identity_on_random_logits():
    """Classic KD = TCKD + (1 - p_t^T) NCKD (Zhao et al., CVPR 2022, Eq. 7)."""
    gen = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(2, 64, 7, generator=gen).mul(3).unbind()
    target = torch.randint(0, 7, (64, ), generator=gen)
    for temperature in (1.0, 4.0):
        tckd, nckd = dkd_terms(student, teacher, target, temperature)
        p_target = (teacher / temperature).softmax(-1).gather(1, target[:, None])[:, 0]
        torch.testing.assert_close(softmax_kd(student, teacher, temperature),
                                   tckd + (1 - p_target) * nckd)
        assert (tckd >= 0).all() and (nckd >= 0).all()


def test_dkd_terms_hand_values():
    # three classes, target 0; teacher p = [1/2, 1/4, 1/4], student uniform
    teacher = torch.log(torch.tensor([[2.0, 1.0, 1.0]]))
    tckd, nckd = dkd_terms(torch.zeros(1, 3), teacher, torch.tensor([0]), 1.0)
    expected_tckd = 0.5 * math.log(0.5 / (1 / 3)) + 0.5 * math.log(0.5 / (2 / 3))
    torch.testing.assert_close(tckd, torch.tensor([expected_tckd]))
    torch.testing.assert_close(nckd, torch.zeros(1))  # both renormalise to [1/2, 1/2]


# ------------------------------------------------------------------ classification


def test_sigmoid_kd_single_class_yolox():
    """One class: per prior ln 2 for the class and ln 2 for objectness."""
    head = yolox(num_classes=1)
    loss = SigmoidKDLoss(weighting='all', loss_weight=0.5)
    student = yolox_outputs([0.0], obj=0.0, requires_grad=True)
    value = loss(student, yolox_outputs([LN3], obj=LN3), context(head, head))
    torch.testing.assert_close(value, torch.tensor(0.5 * 2 * math.log(2)))
    objectness_only = SigmoidKDLoss(weighting='all', class_weight=0.0)
    torch.testing.assert_close(objectness_only(student, yolox_outputs([LN3], obj=LN3), context(head, head)),
                               torch.tensor(math.log(2)))
    # teacher-score weights are uniform here (0.75 * 0.75), so the mean is unchanged
    weighted = SigmoidKDLoss(score_factor_weight=0.0)
    torch.testing.assert_close(weighted(student, yolox_outputs([LN3], obj=LN3), context(head, head)),
                               torch.tensor(math.log(2)))


def test_sigmoid_kd_distils_fcos_centerness():
    """FCOS centerness is the score factor: ln 2 per prior for it alone, with a
    gradient on the student's centerness maps only; the class term adds ln 2."""
    head = FCOSHead(num_classes=1, in_channels=4, feat_channels=4, stacked_convs=1, strides=STRIDES,
                    norm_cfg=None)
    student = (maps([0.0], True), maps([1.0] * 4), maps([0.0], True))
    teacher = (maps([LN3]), maps([1.0] * 4), maps([LN3]))
    centerness_only = SigmoidKDLoss(weighting='all', class_weight=0.0)(student, teacher, context(head, head))
    torch.testing.assert_close(centerness_only, torch.tensor(math.log(2)))
    centerness_only.backward()
    assert all(t.grad.ne(0).all() for t in student[2]) and all(t.grad.eq(0).all() for t in student[0])
    both = SigmoidKDLoss(weighting='all')(student, teacher, context(head, head))
    torch.testing.assert_close(both, torch.tensor(2 * math.log(2)))
    rtmdet = RTMDetSepBNHead(  # FCOS's point priors, no score factor
        num_classes=1, in_channels=4, feat_channels=4, stacked_convs=1, norm_cfg=dict(type='BN'),
        anchor_generator=dict(type='MlvlPointGenerator', offset=0.5, strides=STRIDES),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))
    with pytest.raises(ValueError, match='score factor .* student FCOSHead, teacher RTMDetSepBNHead'):
        SigmoidKDLoss()(student, (maps([LN3]), maps([0.0] * 4)), context(head, rtmdet))


def test_sigmoid_kd_built_from_registry():
    loss = MODELS.build(dict(type='mmkd.SigmoidKDLoss', temperature=2.0, beta=1.0))
    assert isinstance(loss, SigmoidKDLoss) and loss.temperature == 2.0


def test_dkd_single_class_reduces_to_binary_kd():
    head = yolox(num_classes=1)
    loss = DKDLoss(alpha=1.0, beta=8.0, temperature=1.0, weighting='all')
    value = loss(yolox_outputs([0.0]), yolox_outputs([LN3]), context(head, head))
    # softmax([z, 0]) = [sigmoid(z), 1 - sigmoid(z)]: KL([.75, .25] || [.5, .5]); NCKD = 0
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    torch.testing.assert_close(value, torch.tensor(expected))
    with pytest.raises(ValueError, match='at least two classes'):
        DKDLoss(with_background=False, weighting='all')(yolox_outputs([0.0]), yolox_outputs([LN3]),
                                                        context(head, head))


def test_dkd_gt_target_uses_assigned_label():
    head = yolox(num_classes=3)
    student_cls, teacher_cls = [0.0, 1.0, 2.0], [3.0, 0.0, 0.0]  # teacher argmax: class 0
    ctx = context(head, head, boxes=[[-1, -1, SIZE, SIZE]], labels=[2])  # every prior positive
    kwargs = dict(weighting='all', temperature=2.0, center_radius=None, with_background=False)
    by_gt = DKDLoss(target='gt', **kwargs)(yolox_outputs(student_cls), yolox_outputs(teacher_cls), ctx)
    by_teacher = DKDLoss(target='teacher', **kwargs)(yolox_outputs(student_cls),
                                                     yolox_outputs(teacher_cls), ctx)

    def expected(target):
        tckd, nckd = dkd_terms(torch.tensor([student_cls]), torch.tensor([teacher_cls]),
                               torch.tensor([target]), 2.0)
        return (tckd + 8.0 * nckd)[0]

    torch.testing.assert_close(by_gt, expected(2))
    torch.testing.assert_close(by_teacher, expected(0))


def test_positive_and_discrepancy_weighting():
    head = yolox(num_classes=1)
    # GT box over the top-left 16x16 pixels: stride-8 priors at (0|8, 0|8) -> x,y in (0, 16)
    # strictly inside only (8, 8); the centre region of 2.5 strides does not cut it.
    ctx = context(head, head, boxes=[[0, 0, 16, 16]], labels=[0])
    loss = SigmoidKDLoss(weighting='positive')
    student, teacher = yolox_outputs([0.0]), yolox_outputs([LN3], obj=LN3)
    weights = loss.prior_weights(_pair(loss, student, teacher, ctx))
    assert weights.sum().item() == BATCH and weights[:, 9].eq(1).all()
    # identical student and teacher: every discrepancy weight is 0 -> loss 0
    same = SigmoidKDLoss(weighting='discrepancy')(teacher, teacher, ctx)
    assert same.item() == 0.0


def _pair(loss, student, teacher, ctx):
    return ResponsePair(*pair_dense_outputs(ctx.student.bbox_head, student, ctx.teacher.bbox_head,
                                            teacher), ctx=ctx, center_radius=loss.center_radius)


def test_refuses_mismatched_heads():
    ctx = context(yolox(num_classes=1), yolox(num_classes=2))
    with pytest.raises(ValueError, match='num_classes=1 .* num_classes=2'):
        SigmoidKDLoss()(yolox_outputs([0.0]), yolox_outputs([0.0, 0.0]), ctx)
    with pytest.raises(ValueError, match='weighting must name'):
        SigmoidKDLoss(weighting=('positive', 'everything'))


# ---------------------------------------------------------------------- box / LD


def test_box_kd_half_stride_shift():
    """Teacher boxes shifted by half a stride: IoU = GIoU = 1/3, L1 = s/4 per coordinate."""
    head = yolox(num_classes=1)
    loss = BoxKDLoss()
    student = yolox_outputs([5.0], box=[0.0, 0.0, 0.0, 0.0], obj=5.0, requires_grad=True)
    teacher = yolox_outputs([5.0], box=[0.5, 0.0, 0.0, 0.0], obj=5.0)
    value = loss(student, teacher, context(head, head))
    torch.testing.assert_close(value, torch.tensor(2 / 3 + 0.25))
    torch.testing.assert_close(loss(teacher, teacher, context(head, head)), torch.tensor(0.0))


def test_box_kd_no_confident_priors():
    """Loss 0 with a gradient and no NaN, even when unkept student boxes overflow."""
    head = yolox(num_classes=1)
    student = yolox_outputs([0.0], box=[0.0, 0.0, 1000.0, 1000.0], requires_grad=True)
    value = BoxKDLoss(score_thr=0.5)(student, yolox_outputs([-5.0], obj=-5.0), context(head, head))
    assert value.item() == 0.0 and value.requires_grad
    value.backward()
    for grad in (t.grad for t in student[1]):  # box maps
        assert grad is not None and torch.isfinite(grad).all() and grad.eq(0).all()


def test_box_kd_inverted_student_boxes():
    """A distance head without exp can decode inverted boxes; the IoU term stays
    bounded. Student distances -4 px on every side give the zero-area box at
    the prior's (x + 4, y + 4), teacher +4 px the 8 x 8 box around the prior:
    IoU = GIoU = 0 and L1 = 8 / stride per coordinate."""
    head = RTMDetSepBNHead(
        num_classes=1, in_channels=4, feat_channels=4, stacked_convs=1, norm_cfg=dict(type='BN'),
        exp_on_reg=False, anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))
    student, teacher = (maps([0.0]), maps([-4.0] * 4)), (maps([0.0]), maps([4.0] * 4))
    value = BoxKDLoss(weighting='all')(student, teacher, context(head, head))
    per_level = [(64, 1 + 8 / 8), (16, 1 + 8 / 16), (4, 1 + 8 / 32)]  # (priors, loss)
    expected = sum(n * loss for n, loss in per_level) / 84
    torch.testing.assert_close(value, torch.tensor(expected))


def gfl_outputs(cls, edge_logits, requires_grad=False):
    return (maps(cls, requires_grad), maps(list(edge_logits) * 4, requires_grad))


def test_ld_hand_value():
    head = gfl(reg_max=4)
    temperature = 10.0
    # teacher bins p = [1/2, 1/8, 1/8, 1/8, 1/8] at T; student uniform over 5 bins
    teacher = gfl_outputs([0.0], [temperature * math.log(4.0), 0, 0, 0, 0])
    loss = LDLoss(temperature=temperature, weighting='all', vlr_weight=0.0)
    value = loss(gfl_outputs([0.0], [0.0] * 5), teacher, context(head, head))
    kl = 0.5 * math.log(0.5 * 5) + 4 * 0.125 * math.log(0.125 * 5)
    torch.testing.assert_close(value, torch.tensor(temperature**2 * kl))


def test_ld_regions_and_refusal():
    head = gfl(reg_max=4)
    ctx = context(head, head, boxes=[[8, 8, 40, 40]], labels=[0])
    outputs = gfl_outputs([0.0], [0.0] * 5)
    main = LDLoss(vlr_weight=0.0).prior_weights(_pair(LDLoss(), outputs, outputs, ctx))
    with_vlr = LDLoss(vlr_weight=0.5).prior_weights(_pair(LDLoss(), outputs, outputs, ctx))
    assert main.gt(0).sum() > 0
    extra = with_vlr - main
    assert extra.gt(0).any() and extra[main > 0].eq(0).all() and extra.max() == 0.5
    with pytest.raises(ValueError, match='LD needs edge-distribution heads'):
        yolo = yolox()
        LDLoss()(yolox_outputs([0.0]), yolox_outputs([0.0]), context(yolo, yolo))


# --------------------------------------------------------------------- gradients


@pytest.mark.parametrize('loss', [
    SigmoidKDLoss(temperature=2.0, beta=2.0),
    DKDLoss(),
    DKDLoss(target='gt', weighting=('positive', 'teacher_score')),
    BoxKDLoss(score_thr=0.0),
    SigmoidKDLoss(weighting='discrepancy'),
], ids=lambda loss: type(loss).__name__)
def test_gradients_reach_only_student_yolox(loss):
    torch.manual_seed(0)
    student_head, teacher_head = yolox(num_classes=3), yolox(num_classes=3)
    feats = tuple(torch.randn(BATCH, 4, h, w) for h, w in LEVELS)
    ctx = context(student_head, teacher_head, boxes=[[4, 4, 40, 30]], labels=[1])
    value = loss(student_head(feats), teacher_head(feats), ctx)
    value.backward()
    assert torch.isfinite(value) and value > 0
    assert all(p.grad is None for p in teacher_head.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student_head.parameters())


def test_gradients_reach_only_student_gfl():
    student = gfl_outputs([0.5], [0.0, 1.0, 0.0, 0.0, 0.0], requires_grad=True)
    teacher = gfl_outputs([1.0], [2.0, 0.0, 0.0, 0.0, 0.0], requires_grad=True)
    head = gfl(reg_max=4)
    ctx = context(head, head, boxes=[[8, 8, 40, 40]], labels=[0])
    losses = LDLoss(), BoxKDLoss(score_thr=0.0), SigmoidKDLoss()
    total = sum(loss(student, teacher, ctx) for loss in losses)
    total.backward()
    assert all(t.grad is None for t in leaves(teacher))
    assert all(t.grad is not None for t in leaves(student))


def test_real_yolox_teacher_student_detectors():
    """The losses on the heads of two real YOLOX detectors of different widths."""
    student = MMDET_MODELS.build(Config.fromfile('tests/configs/yolox_tiny_synth.py').model)
    teacher = MMDET_MODELS.build(Config.fromfile('tests/configs/yolox_tiny_teacher_synth.py').model)
    inputs = torch.randn(BATCH, 3, 96, 96)
    student_out = student.bbox_head(student.extract_feat(inputs))
    with torch.no_grad():
        teacher_out = teacher.bbox_head(teacher.extract_feat(inputs))
    ctx = context(student.bbox_head, teacher.bbox_head, boxes=[[10, 10, 50, 60]], labels=[1])
    ctx.student, ctx.teacher = student, teacher
    losses = [SigmoidKDLoss(), DKDLoss(target='gt'), BoxKDLoss(score_thr=0.0)]
    total = sum(loss(student_out, teacher_out, ctx) for loss in losses)
    total.backward()
    assert torch.isfinite(total)
    assert all(p.grad is None for p in teacher.parameters())
    assert student.backbone.stem.conv.conv.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------- end to end

DISTILL_CONFIGS = sorted(
    path for pattern in ('sigmoid_kd_*.py', 'dkd_*.py', 'bbox_kd_*.py', 'kd_*.py', 'ld_*.py')
    for path in (Path(__file__).parents[1] / 'configs' / 'distill').glob(pattern))


@functools.lru_cache()
def _load_config(path: str) -> Config:
    return Config.fromfile(path)


@pytest.mark.parametrize('path', DISTILL_CONFIGS, ids=lambda path: path.name)
def test_distill_configs_pair_their_heads(path):
    """Each config loads, keeps the YOLOX recipe hooks, builds its losses, and
    the student and teacher heads it names predict on the same priors."""
    cfg = Config.fromfile(str(path))
    *student_hooks, hook = cfg.custom_hooks
    assert hook['type'] == 'mmkd.DistillationHook'
    if '_yolox_' in path.name:
        assert {'YOLOXModeSwitchHook', 'SyncNormHook', 'EMAHook'} <= {h['type'] for h in student_hooks}
    teacher_cfg = _load_config(hook['teacher']['config'])
    for entry in hook['distill']:
        assert build_mmkd_module(entry['loss']).loss_weight > 0
    heads = [MMDET_MODELS.build(c.model.bbox_head).eval() for c in (cfg, teacher_cfg)]
    outputs = [head(tuple(torch.randn(1, head.in_channels, 256 // s[0], 256 // s[1])
                          for s in head.prior_generator.strides)) for head in heads]
    pair_dense_outputs(heads[0], outputs[0], heads[1], outputs[1])


def test_response_kd_through_the_hook(tmp_path, synth_root, teacher_checkpoint):
    """One epoch of the tiny YOLOX pair with every YOLOX response loss logged."""
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root,
                      train_cfg=dict(max_epochs=1, val_interval=5))
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook['distill'] = [
        dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.SigmoidKDLoss', beta=2.0)),
        dict(name='cls_dkd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.DKDLoss', target='gt')),
        dict(name='box_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.BoxKDLoss', score_thr=0.0)),
    ]
    hub = train(cfg).message_hub
    for name in ('cls_kd', 'cls_dkd', 'box_kd'):
        values = torch.tensor(hub.get_scalar(f'train/loss_{name}').data[0])
        assert len(values) > 0 and torch.isfinite(values).all() and (values > 0).all(), name
