"""How far a fake-quantised model's val mAP moves when only the float summation order changes.

The INT8 artifact and the fake-quantised PyTorch model it came from round the
same values on the same grid, but they add the products of each convolution in
a different order (ONNX Runtime in exact int32, PyTorch in float32, split
differently per thread count and per convolution backend). A value that sits
next to a rounding boundary can then land one step apart, and every later
quantised layer amplifies the flip. This script measures that sensitivity
within PyTorch alone: the same fake-quantised model at 1, 2 and 4 torch
threads and with oneDNN turned off, against the artifact run by ONNX Runtime.
Each row is the config's val mAP (CocoMetric, as ``tools/deploy.py`` reports
it); mAPs at one thread count reproduce on one machine.

    python benchmarks/int8_summation_order.py QAT_CONFIG QAT_CKPT --int8 ARTIFACT.onnx
"""
import argparse
import sys
from pathlib import Path
from typing import List, Tuple

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.quant import OnnxDetector  # noqa: E402
from mmkd.quant.deploy import evaluate, quantized_detector  # noqa: E402

METRIC = 'coco/bbox_mAP'


def val_map(model, cfg: Config) -> float:
    """The config's val mAP of ``model``; 0 where it predicted nothing (CocoMetric then returns no metrics)."""
    return evaluate(model, cfg).get(METRIC, 0.0)


def pytorch_rows(model, cfg: Config, thread_counts: List[int]) -> List[Tuple[str, float]]:
    """The fake-quantised model's mAP at each thread count, then at one thread without oneDNN."""
    rows = []
    for threads in thread_counts:
        torch.set_num_threads(threads)
        rows.append((f'PyTorch fake-quantised, {threads} thread(s)', val_map(model, cfg)))
    torch.set_num_threads(1)
    with torch.backends.mkldnn.flags(enabled=False):
        rows.append(('PyTorch fake-quantised, 1 thread, oneDNN off', val_map(model, cfg)))
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the QAT config (model.type mmkd.QuantizedDetector)')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--int8', required=True, help='the artifact tools/deploy.py wrote from that checkpoint')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2, 4], help='torch thread counts to compare')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    model, _, _ = quantized_detector(cfg, args.checkpoint, calib_images=0)
    rows = pytorch_rows(model, cfg, args.threads)
    artifact = OnnxDetector(args.int8, model, threads=1)
    rows.append(('ONNX Runtime INT8 artifact, 1 thread', val_map(artifact, cfg)))
    reference = rows[0][1]
    print('| model | val mAP | minus the first row |\n|---|---|---|')
    for name, value in rows:
        print(f'| {name} | {value:.3f} | {value - reference:+.3f} |')


if __name__ == '__main__':
    main()
