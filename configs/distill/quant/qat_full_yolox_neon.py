# INT8 QAT of the NEON student for the student's whole 40-epoch schedule (2 warm-up epochs, Mosaic
# until YOLOXModeSwitchHook's last 5 epochs) at _base_/qat.py's learning rate, instead of its 10-epoch
# fine-tune: the baseline of qat_full_sigmoid_kd_yolox_neon.py. With lr 0.001 the recipe's cosine
# (floor 0.001) is flat. At the recipe's own 0.02 the BN-folded student diverged (seed 2: grad norm
# 6 -> 94 in 4 epochs, class loss 0.7 -> 7.0 by epoch 18).
_base_ = ['../../yolox/yolox_student_neon.py', './_base_/qat.py']

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
load_from = _base_.qat_load_from
optim_wrapper = dict(optimizer=dict(lr=_base_.qat_lr))
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'EMAHook'] + _base_.qat_observer_hooks
