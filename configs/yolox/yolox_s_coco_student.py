# YOLOX-S student on COCO 2017 for GPU users: mmdet's config unchanged
# (8 GPUs x 8 images, 300 epochs: tools/dist_train.sh CONFIG 8).
# Add a mmkd.DistillationHook to custom_hooks with the YOLOX-L teacher of
# yolox_l_coco_teacher.py to distil.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'
