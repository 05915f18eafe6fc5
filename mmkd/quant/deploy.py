"""The INT8 deployment flow behind ``tools/deploy.py``: quantise, export, evaluate both."""
import os.path as osp
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch import nn

from .calibrate import calibrate, calibration_dataloader
from .export import export_onnx
from .modules import is_quantized
from .prepare import prepare_qat
from .runtime import OnnxDetector
from .scheme import QuantScheme

# mmdet's CocoMetric rounds every metric to 3 decimals (``f'{stat:.3f}'``)
METRIC_DECIMALS = 3


@dataclass
class DeployReport:
    """Val metrics of the float model (PTQ only), the fake-quantised PyTorch
    model and the INT8 artifact."""

    artifact: str
    pytorch_metrics: Dict[str, float]
    onnx_metrics: Dict[str, float]
    artifact_bytes: int
    calibration_batches: int = 0
    float_metrics: Optional[Dict[str, float]] = None

    def maps(self, metric: str = 'coco/bbox_mAP') -> Tuple[float, float]:
        """``metric`` of the PyTorch and the ONNX Runtime model; 0 where the
        model predicted nothing (CocoMetric then returns no metrics)."""
        return self.pytorch_metrics.get(metric, 0.0), self.onnx_metrics.get(metric, 0.0)

    def gap(self, metric: str = 'coco/bbox_mAP') -> float:
        """|PyTorch fake-quant - ONNX Runtime INT8| for ``metric``, at the 3 decimals CocoMetric reports
        (so 0.085 against 0.080 is 0.005, not the float difference 0.0050000000000000044)."""
        pytorch, onnx = self.maps(metric)
        return round(abs(pytorch - onnx), METRIC_DECIMALS)

    def to_dict(self) -> dict:
        return dict(asdict(self), map_gap=self.gap())


def quantized_detector(cfg: Config, checkpoint: str, calib_images: int) -> tuple:
    """The config's detector with ``checkpoint`` loaded, fake-quantised.

    A QAT config (``model.type='mmkd.QuantizedDetector'``) builds it
    prepared and its checkpoint holds the trained ranges. A float config's
    checkpoint is quantised after training (PTQ): evaluated as it is (the
    reference of the PTQ drop), prepared, then calibrated on
    ``calib_images`` training images. Returns the model, the number of
    calibration batches and the float model's metrics (0 and ``None`` for a
    QAT checkpoint).
    """
    from mmkd.engine.teacher import build_detector, load_weights
    model = build_detector(cfg)
    if is_quantized(model):
        load_weights(model, checkpoint, 'checkpoint', expected='the QAT config')
        return model.eval(), 0, None
    load_weights(model, checkpoint, 'checkpoint', expected='the config')
    float_metrics = evaluate(model.eval(), cfg)
    prepare_qat(model, QuantScheme(**cfg.get('quant_scheme', {})))
    return model, calibrate(model, calibration_dataloader(cfg, calib_images)), float_metrics


def evaluate(model, cfg: Config) -> Dict[str, float]:
    """``cfg``'s val metrics (e.g. CocoMetric) of anything with ``val_step``."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    from mmkd.engine.evaluation import evaluate_detector
    loader = Runner.build_dataloader(cfg.val_dataloader)
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    return evaluate_detector(model, loader, evaluator)


def example_inputs(model: nn.Module, cfg: Config) -> torch.Tensor:
    """One preprocessed val batch: the export's example input."""
    from mmengine.runner import Runner
    data = next(iter(Runner.build_dataloader(cfg.val_dataloader)))
    return model.data_preprocessor(data, False)['inputs']


def deploy(cfg: Config, checkpoint: str, out: str, calib_images: int = 256,
           save_calibrated: Optional[str] = None, threads: Optional[int] = None) -> DeployReport:
    """Quantise ``checkpoint`` (PTQ, or a QAT checkpoint as it is), write the
    INT8 ONNX artifact to ``out`` and evaluate it, the fake-quantised PyTorch
    model and (PTQ) the float model on the config's val set with the
    config's evaluator."""
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    logger = MMLogger.get_current_instance()
    model, batches, float_metrics = quantized_detector(cfg, checkpoint, calib_images)
    for path in filter(None, (out, save_calibrated)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if save_calibrated:
        torch.save({'state_dict': model.state_dict(), 'meta': dict(calibrated_from=checkpoint)}, save_calibrated)
        logger.info(f'mmkd.quant: calibrated checkpoint (load_from of a QAT config): {save_calibrated}')
    pytorch_metrics = evaluate(model, cfg)
    with torch.no_grad():
        export_onnx(model, out, example_inputs(model, cfg))
    onnx_metrics = evaluate(OnnxDetector(out, model, threads), cfg)
    return DeployReport(out, pytorch_metrics, onnx_metrics, osp.getsize(out), batches, float_metrics)
