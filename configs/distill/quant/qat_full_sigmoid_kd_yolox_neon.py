# INT8 QAT of the NEON student distilled from the FP32 teacher (sigmoid-aware response KD,
# configs/distill/sigmoid_kd_yolox_neon.py) for the student's whole 40-epoch schedule and pipeline,
# under which that KD gained in FP32, at the QAT learning rate (qat_full_yolox_neon.py says why);
# the teacher stays float and frozen.
_base_ = ['../sigmoid_kd_yolox_neon.py', './_base_/qat.py']

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
load_from = _base_.qat_load_from
optim_wrapper = dict(optimizer=dict(lr=_base_.qat_lr))
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'EMAHook'] + _base_.qat_observer_hooks
