"""Cross-head distillation (CrossKD) and BCKD's losses."""
import math

import pytest
import torch
from mmdet.models.dense_heads import ATSSHead, GFLHead, RetinaHead, RTMDetHead, RTMDetSepBNHead, YOLOXHead
from test_response_losses import BATCH, LEVELS, LN3, STRIDES, context, yolox, yolox_outputs
from torch import nn
from utils import distill_hook_cfg, load_config, train

from mmkd.adapters import ConvAdapter
from mmkd.engine.distiller import Distiller
from mmkd.head_outputs.head_remainder import run_remainder, split_paths, stacked_convs
from mmkd.losses.response import BCKDClsLoss, BCKDIoULoss
from mmkd.recorders import ModuleRecorder, inputs_key

BN = dict(type='BN')
ANCHORS = dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8, scales_per_octave=1, strides=STRIDES)
POINTS = dict(type='MlvlPointGenerator', offset=0, strides=STRIDES)


def yolox_head(width, stacked=2):
    return YOLOXHead(num_classes=3, in_channels=4, feat_channels=width, stacked_convs=stacked, strides=STRIDES)


def gfl_head(width, stacked=2):
    return GFLHead(num_classes=3, in_channels=4, feat_channels=width, stacked_convs=stacked, reg_max=4,
                   norm_cfg=BN, anchor_generator=ANCHORS)


HEADS = {
    'yolox': lambda: yolox_head(6),
    'gfl': lambda: gfl_head(6),
    'atss': lambda: ATSSHead(num_classes=3, in_channels=4, feat_channels=6, stacked_convs=2, norm_cfg=BN,
                             anchor_generator=ANCHORS),
    'retina': lambda: RetinaHead(num_classes=3, in_channels=4, feat_channels=6, stacked_convs=2,
                                 anchor_generator=dict(ANCHORS, ratios=[0.5, 1.0, 2.0])),
    'rtmdet': lambda: RTMDetHead(num_classes=3, in_channels=4, feat_channels=6, stacked_convs=2, norm_cfg=BN,
                                 anchor_generator=POINTS, bbox_coder=dict(type='DistancePointBBoxCoder'),
                                 with_objectness=True),
    'rtmdet_sep_bn': lambda: RTMDetSepBNHead(num_classes=3, in_channels=4, feat_channels=6, stacked_convs=2,
                                             anchor_generator=POINTS, exp_on_reg=False,
                                             bbox_coder=dict(type='DistancePointBBoxCoder')),
}


def features(channels=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(BATCH, channels, h, w, generator=gen) for h, w in LEVELS)


def split_features(head, split, feats):
    """``{'cls': [...], 'reg': [...]}`` recorded at the split during ``head(feats)``, and its outputs."""
    keys = {branch: [inputs_key(path) for path in split_paths(head, split, branch)] for branch in ('cls', 'reg')}
    recorder = ModuleRecorder(head, keys['cls'] + keys['reg'], 'test')
    with recorder.capture() as records:
        outputs = head(feats)
    return {branch: [t for key in keys[branch] for t in records[key]] for branch in keys}, outputs


@pytest.mark.parametrize('name', HEADS)
def test_remainder_reproduces_forward_at_every_split(name):
    head = HEADS[name]().eval()
    feats = features()
    for split in range(stacked_convs(head) + 1):
        split_feats, outputs = split_features(head, split, feats)
        rerun = run_remainder(head, split, split_feats['cls'], split_feats['reg'])
        assert len(rerun) == len(outputs)
        for rerun_kind, own_kind in zip(rerun, outputs):
            for a, b in zip(rerun_kind, own_kind):
                torch.testing.assert_close(a, b)


# ----------------------------------------------------------- through the Distiller


def detector(head):
    model = nn.Module()
    model.bbox_head = head
    return model


def set_up(student_head, teacher_head, **entry):
    """A Distiller with one cross-head entry, bound and probed as the hook does."""
    student, teacher = detector(student_head), detector(teacher_head.requires_grad_(False).eval())
    entry = dict(dict(name='cross', student='bbox_head', teacher='bbox_head', cross_head=1,
                      loss=dict(type='mmkd.SigmoidKDLoss', weighting='all')), **entry)
    distiller = Distiller([entry])
    distiller.bind_cross_heads(student, teacher)
    recorders = [ModuleRecorder(model, distiller.record_paths(side), side)
                 for model, side in ((student, 'student'), (teacher, 'teacher'))]
    return distiller, student, teacher, recorders


def records(recorders, student, teacher, feats):
    with recorders[0].capture() as student_records:
        student.bbox_head(feats)
    with recorders[1].capture() as teacher_records, torch.no_grad():
        teacher.bbox_head(feats)
    return student_records, teacher_records


def by_hand_yolox(student, teacher, feats, adapt):
    outputs = []
    for level, x in enumerate(feats):
        cls_split = adapt('cls', level, student.multi_level_cls_convs[level][0](x))
        reg_split = adapt('reg', level, student.multi_level_reg_convs[level][0](x))
        cls_feat = teacher.multi_level_cls_convs[level][1](cls_split)
        reg_feat = teacher.multi_level_reg_convs[level][1](reg_split)
        outputs.append((teacher.multi_level_conv_cls[level](cls_feat), teacher.multi_level_conv_reg[level](reg_feat),
                        teacher.multi_level_conv_obj[level](reg_feat)))
    return outputs


def by_hand_gfl(student, teacher, feats, adapt):
    outputs = []
    for level, x in enumerate(feats):
        cls_feat = teacher.cls_convs[1](adapt('cls', level, student.cls_convs[0](x)))
        reg_feat = teacher.reg_convs[1](adapt('reg', level, student.reg_convs[0](x)))
        outputs.append((teacher.gfl_cls(cls_feat), teacher.scales[level](teacher.gfl_reg(reg_feat)).float()))
    return outputs


@pytest.mark.parametrize('make,by_hand', [(yolox_head, by_hand_yolox), (gfl_head, by_hand_gfl)], ids=['yolox', 'gfl'])
@pytest.mark.parametrize('widths', [(8, 8), (4, 8)], ids=['same_width', 'adapter'])
def test_cross_head_is_the_teacher_head_on_student_features(make, by_hand, widths):
    torch.manual_seed(0)
    student_head, teacher_head = make(widths[0]), make(widths[1])
    distiller, student, teacher, recorders = set_up(student_head, teacher_head)
    feats = features()
    distiller.build_adapters(*records(recorders, student, teacher, feats), input_size=(64, 64))
    adapters = distiller.adapters['cross'] if widths[0] != widths[1] else None
    if adapters is not None:
        assert all(isinstance(a, ConvAdapter) and a.conv.in_channels == 4 and a.conv.out_channels == 8
                   for branch in ('cls', 'reg') for a in adapters[branch])
    student_records, _ = records(recorders, student, teacher, feats)
    cross = distiller.cross_head_entries()[0].cross_head(student_records, adapters)

    def adapt(branch, level, x):
        return x if adapters is None else adapters[branch][level](x)

    with torch.no_grad():
        expected = by_hand(student_head, teacher_head, feats, adapt)
    for kind, levels in enumerate(cross):
        for level, value in enumerate(levels):
            torch.testing.assert_close(value, expected[level][kind])


@pytest.mark.parametrize('make', [yolox_head, gfl_head], ids=['yolox', 'gfl'])
def test_gradients_reach_student_features_not_the_teacher(make):
    torch.manual_seed(0)
    student_head, teacher_head = make(4), make(8)
    distiller, student, teacher, recorders = set_up(student_head, teacher_head)
    feats = features()
    distiller.build_adapters(*records(recorders, student, teacher, feats), input_size=(64, 64))
    student_records, teacher_records = records(recorders, student, teacher, feats)
    ctx = context(student_head, teacher_head, boxes=[[4, 4, 40, 30]], labels=[1])
    ctx.student, ctx.teacher = student, teacher
    ctx.student_records, ctx.teacher_records = student_records, teacher_records
    loss = distiller(ctx)['loss_cross']
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert all(p.grad is None for p in teacher_head.parameters())
    before_split = (student_head.multi_level_cls_convs[0][0] if isinstance(student_head, YOLOXHead)
                    else student_head.cls_convs[0])
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in before_split.parameters())
    assert all(p.grad is not None for p in distiller.adapters['cross']['cls'].parameters())  # a class loss
    split_features = [t for key, value in student_records.items() if key.endswith(':inputs') for t in value]
    assert split_features and all(t.requires_grad for t in split_features)


def test_width_mismatch_without_adapter_is_one_clear_error():
    distiller, student, teacher, recorders = set_up(yolox_head(4), yolox_head(8), adapter=None)
    with pytest.raises(ValueError, match=r"^distill\[0\]\.cross_head=1: the student head features at the split "
                                         r"have .*4.* channels but the teacher head expects .*8.*adapter='auto'"):
        distiller.build_adapters(*records(recorders, student, teacher, features()), input_size=(64, 64))


def test_refusals_name_the_entry():
    with pytest.raises(ValueError, match=r'distill\[0\]\.cross_head must be .* got -1'):
        Distiller([dict(student='bbox_head', teacher='bbox_head', cross_head=-1,
                        loss=dict(type='mmkd.SigmoidKDLoss'))])
    with pytest.raises(ValueError, match=r'distill\[0\]\.cross_head=3 but the student YOLOXHead has 2'):
        set_up(yolox_head(4), yolox_head(8), cross_head=3)
    with pytest.raises(ValueError, match=r'distill\[0\]: cross_head needs .* whole dense heads'):
        Distiller([dict(student='bbox_head[0]', teacher='bbox_head[0]', cross_head=1,
                        loss=dict(type='mmkd.SigmoidKDLoss'))])


# ------------------------------------------------------------------------- BCKD


def test_bckd_cls_hand_value():
    """One class, student logits 0 (p = 1/2), teacher ln 3 (q = 3/4) for class and objectness:
    every prior pays |q - p| BCE(p, q) = ln 2 / 4 twice; the sum over the 2 x 84 priors is
    divided by the 2 GT-centre positives (one per image), not by the prior count."""
    head = yolox(num_classes=1)
    ctx = context(head, head, boxes=[[0, 0, 16, 16]], labels=[0])
    value = BCKDClsLoss(loss_weight=0.5)(yolox_outputs([0.0], obj=0.0), yolox_outputs([LN3], obj=LN3), ctx)
    torch.testing.assert_close(value, torch.tensor(0.5 * BATCH * 84 * 2 * math.log(2) / 4 / 2))


def test_bckd_iou_hand_value():
    """Teacher boxes shifted by half a stride: 1 - IoU = 2/3 on every prior, weighted by the
    class-score gap |3/4 * 3/4 - 1/2 * 1/2| = 5/16, divided by the positives (none: 1)."""
    head = yolox(num_classes=1)
    student = yolox_outputs([0.0], box=[0.0, 0.0, 0.0, 0.0], obj=0.0, requires_grad=True)
    teacher = yolox_outputs([LN3], box=[0.5, 0.0, 0.0, 0.0], obj=LN3)
    value = BCKDIoULoss()(student, teacher, context(head, head))
    torch.testing.assert_close(value, torch.tensor(BATCH * 84 * 5 / 16 * 2 / 3))
    value.backward()
    assert all(t.grad is not None for t in student[1])


# ------------------------------------------------------------------- end to end


def test_crosskd_through_the_hook(tmp_path, synth_root, teacher_checkpoint):
    """Two iterations of the tiny YOLOX pair (32 -> 64 channels) with CrossKD entries."""
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root,
                      train_cfg=dict(max_epochs=1, val_interval=5),
                      train_dataloader=dict(dataset=dict(dataset=dict(indices=8))))  # 2 batches of 4
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook['distill'] = [
        dict(name='crosskd_cls', student='bbox_head', teacher='bbox_head', cross_head=1,
             loss=dict(type='mmkd.BCKDClsLoss')),
        dict(name='crosskd_box', student='bbox_head', teacher='bbox_head', cross_head=1,
             loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', l1_weight=0.0, score_thr=0.0)),
    ]
    hub = train(cfg).message_hub
    for name in ('crosskd_cls', 'crosskd_box'):
        values = torch.tensor(hub.get_scalar(f'train/loss_{name}').data[0])
        assert len(values) == 2 and torch.isfinite(values).all() and (values > 0).all(), name
