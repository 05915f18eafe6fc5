# YOLOX-s on the NEON tree crowns, 2 CPU cores, the 40-epoch student schedule:
# the base of the teacher and student configs (yolox_teacher_neon.py,
# yolox_student_neon.py).
# Timings: see configs/_base_/recipes/yolox_cpu.py.
_base_ = ['../_base_/datasets/neon_trees.py', '../_base_/recipes/yolox_cpu.py']

model = dict(bbox_head=dict(num_classes=1))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MultiImageMixDataset',
        dataset=dict(
            _base_.train_dataloader.dataset,
            filter_cfg=dict(filter_empty_gt=False, min_size=4),
            pipeline=_base_.yolox_load_pipeline),
        pipeline=_base_.yolox_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.yolox_test_pipeline))
test_dataloader = val_dataloader
