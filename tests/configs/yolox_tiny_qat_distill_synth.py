# The test student fake-quantised (INT8 QAT) and distilled from the float test teacher:
# configs/distill/quant/qat_*.py at test size. load_from: a calibrated checkpoint the test writes.
_base_ = './yolox_tiny_distill_synth.py'

custom_imports = dict(imports=['mmkd', 'mmkd.quant'], allow_failed_imports=False)
model = dict(_delete_=True, type='mmkd.QuantizedDetector', detector=_base_.model)
train_cfg = dict(max_epochs=1, val_interval=5)
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'EMAHook'] + [
    dict(type='mmkd.QuantObserverHook')]
