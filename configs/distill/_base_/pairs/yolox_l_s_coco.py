# YOLOX-L teacher (neck 256 channels, 49.4 box AP from mmdet's model zoo) ->
# YOLOX-S student (neck 128 channels, 1x1 adapters) on COCO 2017, mmdet's
# configs unchanged (8 GPUs x 8 images, 300 epochs: tools/dist_train.sh CONFIG 8).
# What every configs/distill/*_yolox_l_s_coco.py shares; see _base_/pairs/yolox_neon.py
# for how a leaf adds its entries. The teacher checkpoint is mmdet's released
# YOLOX-L (downloaded on first use; its keys are checked against the config).
_base_ = '../../../yolox/yolox_s_coco_student.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_l_coco_teacher.py'
teacher_checkpoint = ('https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_l_8x8_300e_coco/'
                      'yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth')
distillation_hook = dict(
    type='mmkd.DistillationHook',
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint))
