# INT8 QAT of the NEON student distilled from the FP32 teacher (sigmoid-aware response KD,
# configs/distill/sigmoid_kd_yolox_neon.py); the teacher stays float and frozen.
_base_ = ['../sigmoid_kd_yolox_neon.py', './_base_/qat.py']

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
load_from = _base_.qat_load_from
train_cfg = _base_.qat_train_cfg
param_scheduler = _base_.qat_param_scheduler
optim_wrapper = dict(optimizer=dict(lr=_base_.qat_lr))
custom_hooks = [hook for hook in _base_.custom_hooks
                if hook['type'] not in ('EMAHook', 'YOLOXModeSwitchHook')] + _base_.qat_hooks
