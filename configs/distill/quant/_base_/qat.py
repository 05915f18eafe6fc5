# Quantisation-aware fine-tuning of a trained NEON student (INT8, see docs/quantisation.md).
# Only new names: a leaf config (qat_*.py) assigns them over its student config's sections;
# the qat_full_*.py leaves keep the student's own schedule and take only the observer hook.
# The student starts from a PTQ-calibrated checkpoint (weights and activation ranges):
#   python tools/deploy.py configs/yolox/yolox_student_neon.py STUDENT.pth \
#       --int8 work_dirs/quant/student_ptq.onnx --save-calibrated work_dirs/quant/student_calibrated.pth
qat_load_from = 'work_dirs/quant/student_calibrated.pth'
qat_epochs = 10
# A fine-tune: the student's final learning rate (the recipe's cosine floor, 0.05 x 0.02), held.
qat_lr = 0.001
qat_train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=qat_epochs, val_interval=qat_epochs)
qat_param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=qat_epochs)]
# observers follow the training batches only; EMA is left out: an average of fake-quant
# ranges and integer zero points is not a quantiser the deployed model could run
qat_observer_hooks = [dict(type='mmkd.QuantObserverHook')]
qat_hooks = [
    # the student's last-phase pipeline (no Mosaic/RandomAffine, L1 box loss) from the first epoch
    dict(type='YOLOXModeSwitchHook', num_last_epochs=qat_epochs - 1, priority=48),
] + qat_observer_hooks
