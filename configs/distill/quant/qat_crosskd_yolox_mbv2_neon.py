# INT8 QAT of the MobileNetV2 NEON student distilled from the FP32 CSPDarknet teacher with CrossKD
# (configs/distill/crosskd_yolox_mbv2_neon.py, the KD established on this pair in FP32); the
# teacher stays float and frozen. The 10-epoch fine-tune of _base_/qat.py, as qat_sigmoid_kd_yolox_neon.py.
_base_ = ['../crosskd_yolox_mbv2_neon.py', './_base_/qat.py']

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
load_from = _base_.qat_load_from
train_cfg = _base_.qat_train_cfg
param_scheduler = _base_.qat_param_scheduler
optim_wrapper = dict(optimizer=dict(lr=_base_.qat_lr))
custom_hooks = [hook for hook in _base_.custom_hooks
                if hook['type'] not in ('EMAHook', 'YOLOXModeSwitchHook')] + _base_.qat_hooks
