"""Tests of mmkd.head_outputs: per-prior parsing of real mmdet dense heads."""
import functools

import pytest
import torch
from mmdet.models.dense_heads import (
    ATSSHead,
    FCOSHead,
    FoveaHead,
    GFLHead,
    RetinaHead,
    RTMDetHead,
    RTMDetSepBNHead,
    TOODHead,
    YOLOXHead,
)
from mmengine.config import ConfigDict

from mmkd.context import PaddedGroundTruth
from mmkd.head_outputs import assign_by_centre, check_dense_head, pair_dense_outputs, pairwise_diou, parse_dense_outputs

STRIDES = [8, 16, 32]
INPUT = 64  # levels 8x8, 4x4, 2x2 -> 84 locations
CHANNELS = 8
NUM_CLASSES = 3
BN = dict(type='BN')
TEST_CFG = ConfigDict(nms_pre=100000, score_thr=0.0, min_bbox_size=-1, max_per_img=100000)


def yolox(strides=STRIDES, num_classes=NUM_CLASSES, feat_channels=CHANNELS):
    return YOLOXHead(num_classes=num_classes, in_channels=CHANNELS, feat_channels=feat_channels,
                     stacked_convs=1, strides=strides)


def rtmdet():
    return RTMDetHead(
        num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
        stacked_convs=1, norm_cfg=BN,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))


def rtmdet_sepbn():
    return RTMDetSepBNHead(
        num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
        stacked_convs=1, norm_cfg=BN, pred_kernel_size=1, exp_on_reg=True,
        anchor_generator=dict(type='MlvlPointGenerator', offset=0, strides=STRIDES),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))


def retina():
    return RetinaHead(
        num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                              ratios=[0.5, 1.0, 2.0], strides=STRIDES),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                        target_stds=[1.0] * 4),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True))


def gfl():
    return GFLHead(
        num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS, stacked_convs=1,
        norm_cfg=BN, reg_max=4,
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8,
                              scales_per_octave=1, strides=STRIDES),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))


def fcos(norm_on_bbox=True):
    """FCOS as in mmdet's ``center-normbbox-centeronreg-giou`` config (GN
    keeps train and eval outputs equal)."""
    return FCOSHead(num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
                    stacked_convs=1, strides=STRIDES, norm_on_bbox=norm_on_bbox,
                    centerness_on_reg=True, norm_cfg=dict(type='GN', num_groups=4))


def atss():
    """Two anchors per location, to check the anchor order of the score factors."""
    return ATSSHead(num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
                    stacked_convs=1, norm_cfg=dict(type='GN', num_groups=4),
                    anchor_generator=dict(type='AnchorGenerator', ratios=[0.5, 2.0],
                                          octave_base_scale=8, scales_per_octave=1,
                                          strides=STRIDES),
                    bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                                    target_stds=[0.1, 0.1, 0.2, 0.2]))


def features(batch=2, size=INPUT, strides=STRIDES, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, CHANNELS, size // s, size // s, generator=gen) for s in strides)


def run_head(head, feats):
    head.eval()
    with torch.no_grad():
        return head(feats)


def metas(batch, size=INPUT):
    return [dict(img_shape=(size, size), scale_factor=(1.0, 1.0))] * batch


def sorted_rows(scores, boxes):
    """Rows ``(score, x1, y1, x2, y2)`` in lexicographic order, so that two
    lists of detections compare whatever their order (score ties included)."""
    rows = torch.cat([scores[:, None], boxes], 1)
    for column in reversed(range(rows.shape[1])):
        rows = rows[rows[:, column].argsort(stable=True)]
    return rows


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


HEADS = dict(yolox=yolox, rtmdet=rtmdet, rtmdet_sepbn=rtmdet_sepbn, retina=retina, gfl=gfl,
             fcos=fcos, fcos_exp=functools.partial(fcos, norm_on_bbox=False), atss=atss)
ANCHORS = dict(retina=9, atss=2)
WITH_SCORE_FACTORS = ('yolox', 'fcos', 'fcos_exp', 'atss')


@pytest.mark.parametrize('name', list(HEADS))
def test_shapes(name):
    head = HEADS[name]()
    parsed = parse_dense_outputs(head, run_head(head, features()))
    anchors = ANCHORS.get(name, 1)
    num_priors = 84 * anchors
    box_channels = 4 * 5 if name == 'gfl' else 4
    assert parsed.cls_logits.shape == (2, num_priors, NUM_CLASSES)
    assert parsed.bbox_preds.shape == (2, num_priors, box_channels)
    assert parsed.priors.shape == (num_priors, 4)
    assert parsed.strides.shape == (num_priors, )
    assert parsed.level_sizes == [(8, 8), (4, 4), (2, 2)]
    assert parsed.scores().shape == (2, num_priors, NUM_CLASSES)
    assert parsed.decoded_boxes().shape == (2, num_priors, 4)
    assert (parsed.score_factors is None) == (name not in WITH_SCORE_FACTORS)
    assert parsed.strides[:64 * anchors].eq(8).all() and parsed.strides[-4 * anchors:].eq(32).all()


@pytest.mark.parametrize('name', list(HEADS))
def test_decode_matches_predict(name):
    """Scores and boxes agree with the head's own ``predict_by_feat`` path."""
    head = HEADS[name]()
    outputs = run_head(head, features())
    parsed = parse_dense_outputs(head, outputs)
    with torch.no_grad():
        results = head.predict_by_feat(*outputs, batch_img_metas=metas(2), cfg=TEST_CFG,
                                       rescale=False, with_nms=False)
    boxes = parsed.decoded_boxes()
    if name != 'yolox':  # the other heads clip boxes to the image in predict
        boxes = boxes.clamp(min=0, max=INPUT)
    for img, result in enumerate(results):
        scores = parsed.scores()[img]
        if name == 'yolox':  # one row per prior: best class times objectness
            mine = sorted_rows(scores.max(-1).values, boxes[img])
        else:  # one row per (prior, class) pair
            mine = sorted_rows(scores.flatten(), boxes[img].repeat_interleave(NUM_CLASSES, 0))
        torch.testing.assert_close(mine, sorted_rows(result.scores, result.bboxes), rtol=1e-5, atol=1e-4)


def test_yolox_scores_include_objectness():
    head = yolox()
    parsed = parse_dense_outputs(head, run_head(head, features()))
    expected = parsed.cls_logits.sigmoid() * parsed.score_factors.sigmoid()[..., None]
    torch.testing.assert_close(parsed.scores(), expected)
    assert torch.equal(parsed.prior_centers(), parsed.priors[:, :2])


def test_gfl_edge_logits_and_centres():
    head = gfl()
    parsed = parse_dense_outputs(head, run_head(head, features()))
    assert parsed.reg_max == 4
    assert parsed.edge_logits().shape == (2, 84, 4, 5)
    torch.testing.assert_close(parsed.prior_centers(), head.anchor_center(parsed.priors))
    with pytest.raises(TypeError, match='YOLOXHead'):
        parse_dense_outputs(yolox(), run_head(yolox(), features())).edge_logits()


def per_level(maps, channels):
    """Each ``(B, A*channels, H, W)`` level as mmdet's ``predict_by_feat`` reads it,
    ``(B, H*W*A, channels)``, levels concatenated."""
    return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, channels) for m in maps], 1)


@pytest.mark.parametrize('name', ['fcos', 'atss'])
def test_score_factor_heads_flatten_like_mmdet(name):
    """Rows follow mmdet's order (level, location, anchor) for every output."""
    head = HEADS[name]()
    cls_scores, bbox_preds, centernesses = run_head(head, features())
    parsed = parse_dense_outputs(head, (cls_scores, bbox_preds, centernesses))
    sizes = [tuple(m.shape[-2:]) for m in cls_scores]
    points = dict(with_stride=True) if name == 'fcos' else {}  # as DenseOutputs keeps them
    priors = head.prior_generator.grid_priors(sizes, device='cpu', **points)
    torch.testing.assert_close(parsed.priors, torch.cat(priors))
    torch.testing.assert_close(parsed.cls_logits, per_level(cls_scores, NUM_CLASSES))
    torch.testing.assert_close(parsed.score_factors, per_level(centernesses, 1)[..., 0])
    expected = per_level(cls_scores, NUM_CLASSES).sigmoid() * per_level(centernesses, 1).sigmoid()
    torch.testing.assert_close(parsed.scores(), expected)


def coder_boxes(head, bbox_preds, train_strides=False):
    """mmdet's decoding, level by level and image by image: ``bbox_coder.decode``
    on the level's priors (FCOS in training mode: distances times the stride)."""
    sizes = [tuple(m.shape[-2:]) for m in bbox_preds]
    boxes = []
    mlvl_priors = head.prior_generator.grid_priors(sizes, device='cpu')
    for priors, preds, stride in zip(mlvl_priors, bbox_preds, STRIDES):
        preds = preds.permute(0, 2, 3, 1).reshape(preds.shape[0], -1, 4)
        preds = preds * stride if train_strides else preds
        boxes.append(torch.stack([head.bbox_coder.decode(priors, p) for p in preds]))
    return torch.cat(boxes, 1)


def test_fcos_decoding_matches_bbox_coder_in_train_and_eval():
    """A training FCOS (norm_on_bbox) returns distances in strides, an eval one in
    pixels; both decode to mmdet's boxes, and to the same boxes."""
    head = fcos()
    feats = features()
    head.train()
    train_outputs = head(feats)
    train_boxes = parse_dense_outputs(head, train_outputs).decoded_boxes()
    torch.testing.assert_close(train_boxes, coder_boxes(head, train_outputs[1], train_strides=True))
    eval_outputs = run_head(head, feats)
    eval_boxes = parse_dense_outputs(head, eval_outputs).decoded_boxes()
    torch.testing.assert_close(eval_boxes, coder_boxes(head, eval_outputs[1]))
    torch.testing.assert_close(train_boxes.detach(), eval_boxes)
    assert train_boxes.requires_grad


@pytest.mark.parametrize('name', ['fcos_exp', 'atss'])
def test_decoding_matches_bbox_coder(name):
    head = HEADS[name]()
    outputs = run_head(head, features())
    parsed = parse_dense_outputs(head, outputs)
    torch.testing.assert_close(parsed.decoded_boxes(), coder_boxes(head, outputs[1]))
    keep = torch.rand(parsed.batch_size, parsed.num_priors) > 0.5
    torch.testing.assert_close(parsed.decoded_boxes(keep), parsed.decoded_boxes()[keep])


def test_unsupported_heads_are_named():
    with pytest.raises(TypeError, match='Linear'):
        parse_dense_outputs(torch.nn.Linear(2, 2), ())
    fovea = FoveaHead(num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
                      stacked_convs=1, strides=STRIDES, base_edge_list=[16, 32, 64],
                      scale_ranges=((1, 32), (16, 64), (32, 128)))
    with pytest.raises(TypeError, match=r'does not support FoveaHead\. Supported heads .*FCOSHead, ATSSHead'):
        check_dense_head(fovea)
    softmax = RetinaHead(
        num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4, scales_per_octave=1,
                              ratios=[1.0], strides=STRIDES),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False))
    with pytest.raises(TypeError, match=r'RetinaHead with a softmax classifier \(use_sigmoid_cls=False\)'):
        parse_dense_outputs(softmax, run_head(softmax, features()))
    tood = TOODHead(num_classes=NUM_CLASSES, in_channels=CHANNELS, feat_channels=CHANNELS,
                    stacked_convs=1, norm_cfg=dict(type='GN', num_groups=4),
                    anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
                                          octave_base_scale=8, scales_per_octave=1,
                                          strides=STRIDES))
    with pytest.raises(ValueError, match='TOODHead output should be 3 sequences'):
        parse_dense_outputs(tood, run_head(tood, features()))


def test_pairing_large_and_small_yolox():
    teacher, student = yolox(feat_channels=16), yolox(feat_channels=4)
    feats = features()
    s, t = pair_dense_outputs(student, student(feats), teacher, teacher(feats))
    assert s.num_priors == t.num_priors == 84
    assert s.cls_logits.requires_grad and not t.cls_logits.requires_grad


def test_pairing_refuses_different_priors():
    student, teacher = yolox(), yolox()
    with pytest.raises(ValueError, match=r'student YOLOXHead predicts on 84 priors.*teacher '
                       r'YOLOXHead on 336 priors'):
        pair_dense_outputs(student, run_head(student, features()), teacher,
                           run_head(teacher, features(size=2 * INPUT)))
    shifted = yolox(strides=[16, 32, 64])
    with pytest.raises(ValueError, match=r'strides \[16, 32, 64\]'):
        pair_dense_outputs(student, run_head(student, features()), shifted,
                           run_head(shifted, features(strides=STRIDES)))


def test_pairing_refuses_different_num_classes():
    student, teacher = yolox(num_classes=1), yolox(num_classes=80)
    with pytest.raises(ValueError, match='student YOLOXHead has num_classes=1 and the '
                       'teacher YOLOXHead has num_classes=80'):
        pair_dense_outputs(student, run_head(student, features()), teacher,
                           run_head(teacher, features()))


def ground_truth(boxes, labels):
    bboxes = torch.tensor(boxes, dtype=torch.float32)
    labels = torch.tensor(labels)
    return PaddedGroundTruth(bboxes, labels, labels >= 0)


def test_assign_by_centre():
    centers = torch.tensor([[4.0, 4.0], [20.0, 20.0], [40.0, 40.0]])
    strides = torch.full((3, ), 8.0)
    # image 0: a big box holding every centre and a small one holding the first;
    # image 1: one padded slot only.
    gt = ground_truth([[[0, 0, 48, 48], [0, 0, 10, 10]], [[0, 0, 48, 48], [0, 0, 0, 0]]],
                      [[2, 1], [-1, -1]])
    whole = assign_by_centre(centers, strides, gt, center_radius=None)
    assert whole.positive.tolist() == [[True, True, True], [False, False, False]]
    assert whole.labels.tolist() == [[1, 2, 2], [-1, -1, -1]]  # smallest box wins
    # centre region of 1 stride: |x - 24| < 8 keeps only (20, 20) for the big box
    centre = assign_by_centre(centers, strides, gt, center_radius=1.0)
    assert centre.positive[0].tolist() == [True, True, False]
    empty = assign_by_centre(centers, strides, ground_truth(torch.zeros(2, 0, 4).tolist(),
                                                            torch.zeros(2, 0).tolist()))
    assert not empty.positive.any() and empty.labels.eq(-1).all()


def test_pairwise_diou():
    priors = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    gt = ground_truth([[[1, 0, 3, 2], [0, 0, 0, 0]]], [[0, -1]])
    diou = pairwise_diou(priors, gt)
    # IoU = 2 / 6; centres 1 apart; enclosing box 3 x 2 -> c^2 = 13
    torch.testing.assert_close(diou, torch.tensor([[[2 / 6 - 1 / 13, -1.0]]]))
