# Faster R-CNN R-101 teacher -> Faster R-CNN R-50 student on COCO (mmdet's own configs;
# both FPNs have 256 channels and the same anchors, RoI extractor and box coder).
# Distils, after Chen et al. (NeurIPS 2017), every stage of the two-stage detector:
# the FPN features (hint learning), the RPN objectness and boxes (a sigmoid one-class
# dense head), and the R-CNN box head on the student's sampled RoIs (RoIKDLoss: softmax
# KD with a background weight + teacher-bounded regression). See docs/response_kd.md.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'
teacher_checkpoint = 'work_dirs/faster-rcnn_r101_fpn_1x_coco/epoch_12.pth'
custom_hooks = [dict(
    type='mmkd.DistillationHook',
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
    distill=[
        dict(name='fpn_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss')),
        # names must not clash with the student's own loss_rpn_cls / loss_rpn_bbox
        dict(name='rpn_cls_kd', student='rpn_head', teacher='rpn_head',
             loss=dict(type='mmkd.SigmoidKDLoss', weighting='teacher_score')),
        dict(name='rpn_box_kd', student='rpn_head', teacher='rpn_head',
             loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5)),
        dict(name='rcnn_kd', student='roi_head.bbox_head', teacher='roi_head.bbox_head',
             loss=dict(type='mmkd.RoIKDLoss')),
    ])]
