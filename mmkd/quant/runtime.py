"""ONNX Runtime inference standing in for a detector in mmdet's evaluation."""
from typing import Any, List, Optional

import torch
from torch import nn

from .export import INPUT_NAME, OUTPUT_GROUPS_KEY, group_outputs


class OnnxDetector:
    """An exported detector run by ONNX Runtime on CPU, with the PyTorch
    detector's data preprocessor and the head's ``predict_by_feat``.

    It offers ``val_step`` like an mmengine model, so mmdet's evaluation
    (:func:`mmkd.engine.evaluation.evaluate_detector`, CocoMetric) runs it
    unchanged. ONNX Runtime fuses each ``DequantizeLinear -> Conv ->
    QuantizeLinear`` of a QDQ file into an INT8 ``QLinearConv`` at load time.

    Args:
        path: the ``.onnx`` file (:func:`mmkd.quant.export_onnx`).
        detector: the detector it was exported from (its preprocessor and head
            configuration are used; its weights are not).
        threads: ONNX Runtime's intra-op threads (``None``: its default).
    """

    def __init__(self, path: str, detector: nn.Module, threads: Optional[int] = None) -> None:
        import onnxruntime
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.groups = [int(size) for size in meta[OUTPUT_GROUPS_KEY].split(',')]
        self.detector = detector

    def run(self, inputs: torch.Tensor) -> List[list]:
        """The head outputs for a preprocessed batch, nested as the head returns them."""
        flat = self.session.run(None, {INPUT_NAME: inputs.detach().cpu().numpy()})
        return group_outputs([torch.from_numpy(array) for array in flat], self.groups)

    def val_step(self, data: Any) -> list:
        """Predictions (``DetDataSample``s with ``pred_instances``) for a dataloader batch."""
        data = self.detector.data_preprocessor(data, False)
        samples = data['data_samples']
        results = self.detector.bbox_head.predict_by_feat(
            *self.run(data['inputs']), batch_img_metas=[sample.metainfo for sample in samples], rescale=True)
        return self.detector.add_pred_to_datasample(samples, results)
