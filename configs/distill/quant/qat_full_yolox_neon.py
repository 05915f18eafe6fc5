# INT8 QAT of the NEON student for the student's whole 40-epoch schedule (warm-up, cosine from the
# recipe's 0.02, Mosaic until YOLOXModeSwitchHook's last epochs) instead of _base_/qat.py's 10-epoch
# fine-tune at the final learning rate: the baseline of qat_full_sigmoid_kd_yolox_neon.py.
_base_ = ['../../yolox/yolox_student_neon.py', './_base_/qat.py']

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
load_from = _base_.qat_load_from
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'EMAHook'] + _base_.qat_observer_hooks
