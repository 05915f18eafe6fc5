"""Two-stage detectors: feature and response KD on Faster / Mask R-CNN from mmdet's configs."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.optim import OptimWrapper
from utils import distill_context, find_distill_hook, train, untrained_checkpoint, with_tiny_run

from mmkd.demo_data.synthetic_shapes import CLASSES
from mmkd.engine.standalone import attach_hook, random_detection_batch
from mmkd.engine.teacher import build_detector
from mmkd.losses.response import RoIKDLoss
from mmkd.recorders import parse_record_key
from mmkd.recorders.roi_branches import rois_key

FASTER_RCNN = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
MASK_RCNN = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
def small_two_stage(base: str, width: int) -> Config:
    """mmdet's config on ResNet-18 at ``width`` base channels (random init), few RoIs, 3 classes."""
    cfg = get_config(base)
    model = cfg.model
    model.backbone.update(depth=18, base_channels=width, init_cfg=None)
    model.neck.update(in_channels=[width * 2**i for i in range(4)], out_channels=width)
    model.rpn_head.update(in_channels=width, feat_channels=width)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = width
    roi.bbox_head.update(in_channels=width, fc_out_channels=2 * width, num_classes=len(CLASSES))
    if 'mask_head' in roi:
        roi.mask_roi_extractor.out_channels = width
        roi.mask_head.update(in_channels=width, conv_out_channels=width, num_classes=len(CLASSES))
    model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=50)
    model.train_cfg.rcnn.sampler.num = 32
    model.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    return cfg


def student_config(base: str, work_dir: Path, data_root: str, ann_file: str, hook: dict) -> Config:
    """The small student on the synthetic set, 2 iterations, no validation."""
    cfg = with_tiny_run(small_two_stage(base, 16), work_dir, data_root)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.update(ann_file=ann_file, pipeline=cfg.train_pipeline)  # mmdet's (masks)
    cfg.train_dataloader.dataset.pipeline[2].scale = (96, 96)  # Resize
    replaced = dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100), val_cfg=None,
                    val_dataloader=None, val_evaluator=None, test_cfg=None, test_dataloader=None,
                    test_evaluator=None, custom_hooks=[hook],
                    custom_imports=dict(imports=['mmkd'], allow_failed_imports=False))
    for key, value in replaced.items():
        cfg[key] = value
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100, save_last=False)
    return cfg


def untrained_teacher(base: str, tmp_path: Path) -> dict:
    """A twice-as-wide teacher config file and its initialised weights."""
    cfg = small_two_stage(base, 32)
    config = tmp_path / 'teacher.py'
    cfg.dump(str(config))
    return dict(config=str(config), checkpoint=untrained_checkpoint(cfg, tmp_path / 'teacher.pth'))


@pytest.fixture(scope='module')
def box_masks(synth_root, tmp_path_factory) -> str:
    """The synthetic train annotations with each box as its polygon mask (the set has no masks)."""
    coco = json.loads((Path(synth_root) / 'annotations' / 'train.json').read_text())
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        ann['segmentation'] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    path = tmp_path_factory.mktemp('masks') / 'train_masks.json'
    path.write_text(json.dumps(coco))
    return str(path)


def logged(runner, key: str) -> torch.Tensor:
    return torch.tensor(runner.message_hub.get_scalar(f'train/{key}').data[0])


def test_faster_rcnn_feature_and_response_kd(tmp_path, synth_root):
    hook = dict(type='mmkd.DistillationHook', teacher=untrained_teacher(FASTER_RCNN, tmp_path),
                probe_input_size=(128, 128), distill=[
        dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss')),
        dict(name='roi_feat', student='roi_head.bbox_roi_extractor', teacher='roi_head.bbox_roi_extractor',
             loss=dict(type='mmkd.MaskedFeatureLoss', mask=dict(type='mmkd.RoIForegroundMask', bg_weight=0.5))),
        dict(name='rpn_cls_kd', student='rpn_head', teacher='rpn_head', loss=dict(type='mmkd.SigmoidKDLoss')),
        dict(name='rpn_box_kd', student='rpn_head', teacher='rpn_head',
             loss=dict(type='mmkd.BoxKDLoss', score_thr=0.0)),
        dict(name='roi_kd', student='roi_head.bbox_head', teacher='roi_head.bbox_head',
             loss=dict(type='mmkd.RoIKDLoss', temperature=2.0)),
    ])
    runner = train(student_config(FASTER_RCNN, tmp_path, synth_root, 'annotations/train.json', hook))
    for name in ('neck_mse', 'roi_feat', 'rpn_cls_kd', 'rpn_box_kd', 'roi_kd'):
        values = logged(runner, f'loss_{name}')
        assert len(values) == 2 and torch.isfinite(values).all() and (values > 0).all(), name
    teacher = find_distill_hook(runner).teacher
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())


def test_mask_rcnn_feature_kd(tmp_path, synth_root, box_masks):
    hook = dict(type='mmkd.DistillationHook', teacher=untrained_teacher(MASK_RCNN, tmp_path),
                probe_input_size=(128, 128), distill=[
        dict(name='fpn_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss')),
        dict(name='mask_feat', student='roi_head.mask_roi_extractor', teacher='roi_head.mask_roi_extractor',
             loss=dict(type='mmkd.FeatureMSELoss')),
        dict(name='roi_kd', student='roi_head.bbox_head', teacher='roi_head.bbox_head',
             loss=dict(type='mmkd.RoIKDLoss')),
    ])
    runner = train(student_config(MASK_RCNN, tmp_path, synth_root, box_masks, hook))
    for name in ('fpn_mse', 'mask_feat', 'roi_kd'):
        values = logged(runner, f'loss_{name}')
        assert len(values) == 2 and torch.isfinite(values).all() and (values > 0).all(), name
    assert 'train/loss_mask' in runner.message_hub.log_scalars


def test_teacher_runs_on_the_students_rois(tmp_path):
    """A teacher with the student's own weights gives zero RoI feature and bounded box losses:
    rows pair RoI by RoI (the soft class term is the teacher's entropy there, so it is off)."""
    cfg = small_two_stage(FASTER_RCNN, 16)
    student = build_detector(cfg)
    student.init_weights()
    cfg.dump(str(tmp_path / 'same.py'))
    torch.save({'state_dict': student.state_dict(), 'meta': {}}, tmp_path / 'same.pth')
    hook = attach_hook(dict(type='mmkd.DistillationHook',
                            teacher=dict(config=str(tmp_path / 'same.py'), checkpoint=str(tmp_path / 'same.pth')),
                            probe_input_size=(128, 128),
                            distill=[dict(name='roi_feat', student='roi_head.bbox_roi_extractor',
                                          teacher='roi_head.bbox_roi_extractor',
                                          loss=dict(type='mmkd.FeatureMSELoss')),
                                     dict(name='roi_kd', student='roi_head.bbox_head', teacher='roi_head.bbox_head',
                                          loss=dict(type='mmkd.RoIKDLoss', cls_weight=0.0))]),
                       student, OptimWrapper(torch.optim.SGD(student.parameters(), lr=0.01)), {})
    student.train()
    inputs, samples = random_detection_batch(2, 96, len(CLASSES), boxes_per_image=3)
    losses = student(student.data_preprocessor(dict(inputs=list(inputs), data_samples=samples))['inputs'],
                     samples, mode='loss')
    assert losses['loss_roi_feat'].item() == 0 and losses['loss_roi_kd'].item() == 0
    hook.after_train(None)


def _roi_head_module(num_classes: int) -> torch.nn.Module:
    from mmdet.registry import MODELS
    model, roi_head = torch.nn.Module(), torch.nn.Module()
    roi_head.bbox_head = MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=4, fc_out_channels=8, roi_feat_size=7, num_classes=num_classes,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2])))
    model.roi_head = roi_head
    return model


def test_roi_kd_matches_hand_computation():
    torch.manual_seed(0)
    num_classes, temperature, w_bg, margin = 2, 2.0, 1.5, 0.3
    rois = torch.tensor([[0, 10., 10., 50., 50.], [0, 60., 60., 90., 90.], [1, 0., 0., 30., 40.]])
    gt = torch.tensor([[12., 8., 52., 48.]])
    student = (torch.randn(3, num_classes + 1), torch.randn(3, 4 * num_classes))
    teacher = (torch.randn(3, num_classes + 1), torch.randn(3, 4 * num_classes))
    ctx = distill_context([gt, []], 96, _roi_head_module(2), _roi_head_module(2), {rois_key('bbox'): rois},
                          labels=[[1], []])
    loss = RoIKDLoss(temperature=temperature, background_weight=w_bg, margin=margin, loss_weight=2.0)
    key = parse_record_key('roi_head.bbox_head')
    loss.bind(key, key, 'distill[0]')

    expected_cls = 0.0
    for s, t in zip(student[0], teacher[0]):
        p_t, p_s = F.softmax(t / temperature, 0), F.softmax(s / temperature, 0)
        weights = torch.tensor([1.0, 1.0, w_bg])
        expected_cls -= temperature**2 * (weights * p_t * p_s.log()).sum()
    # only RoI 0 overlaps the GT (IoU 0.82); its class is 1, so deltas 4:8
    coder = ctx.student.roi_head.bbox_head.bbox_coder
    target = coder.encode(rois[:1, 1:], gt)[0]
    error_s = ((student[1][0, 4:8] - target)**2).sum()
    error_t = ((teacher[1][0, 4:8] - target)**2).sum()
    expected_reg = error_s if error_s + margin > error_t else torch.tensor(0.0)
    expected = 2.0 * (0.5 * expected_cls / 3 + 0.5 * expected_reg / 3)
    assert torch.allclose(loss(student, teacher, ctx), expected, atol=1e-6)
    assert error_s + margin > error_t  # the example exercises the bounded term


def test_roi_kd_refuses_other_records():
    with pytest.raises(ValueError, match=r'distill\[2\]: RoIKDLoss distils the R-CNN box head; set student='):
        RoIKDLoss().bind(parse_record_key('rpn_head'), parse_record_key('rpn_head'), 'distill[2]')


def test_roi_foreground_mask_by_hand():
    from mmkd.masks import RoIForegroundMask
    # IoU 1, IoU 0.8 (a 40 x 32 RoI inside the 40 x 40 box: 1280 / 1600) and IoU 0
    rois = torch.tensor([[0, 10., 10., 50., 50.], [0, 10., 18., 50., 50.], [0, 60., 60., 90., 90.]])
    ctx = distill_context([[[10., 10., 50., 50.]]], 96, student_records={rois_key('bbox'): rois})
    features = [torch.zeros(3, 4, 7, 7)]
    mask = RoIForegroundMask(fg_weight=2.0, bg_weight=0.25)(features, features, ctx)[0]
    assert mask.shape == (3, 1, 1, 1)
    assert mask.flatten().tolist() == [2.0, 2.0, 0.25]
    with pytest.raises(KeyError, match='record roi_head.mask_roi_extractor'):
        RoIForegroundMask(branch='mask')(features, features, ctx)
