"""INT8 quantisation of mmdet detectors: PTQ, QAT with distillation, ONNX Runtime deployment.

Importing this package registers ``mmkd.QuantizedDetector`` (a config's model,
fake-quantised at build time) and ``mmkd.QuantObserverHook``; it needs only
PyTorch. Export and inference (:mod:`.export`, :mod:`.runtime`) need the
``quant`` extra (``onnx``, ``onnxruntime``). See ``docs/quantisation.md``.
"""
from .builder import QuantizedDetector
from .calibrate import calibrate, calibration_dataloader
from .export import DetectorTensors, export_onnx
from .hook import QuantObserverHook
from .modules import QuantConv2d, QuantSiLU, is_quantized, set_fake_quant, set_observers
from .prepare import QuantReport, prepare_qat
from .runtime import OnnxDetector
from .scheme import QuantScheme

__all__ = ['QuantizedDetector', 'calibrate', 'calibration_dataloader', 'DetectorTensors', 'export_onnx',
           'QuantObserverHook', 'QuantConv2d', 'QuantSiLU', 'is_quantized', 'set_fake_quant', 'set_observers',
           'QuantReport', 'prepare_qat', 'OnnxDetector', 'QuantScheme']
