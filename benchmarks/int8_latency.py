"""Latency of the detector's tensor part: FP32 PyTorch, FP32 ONNX Runtime and the INT8 artifact.

All three run in one process, one after another per batch size, on the same
random batch and the same number of threads, so the ratios compare like with
like (post-processing/NMS is Python in all three and is left out). Weights do
not change speed: without a checkpoint the float model is initialised.

    python tools/deploy.py CONFIG CKPT --int8 work_dirs/quant/model.onnx      # the INT8 artifact
    python benchmarks/int8_latency.py CONFIG work_dirs/quant/model.onnx [--checkpoint CKPT]
        [--size 416] [--batches 1 8] [--repeats 10] [--threads 1]

Prints a Markdown table (median ms per batch, speed-up of the INT8 artifact
over FP32 PyTorch and over FP32 ONNX Runtime) and the file sizes, and writes
them to ``--out`` as JSON.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.engine.teacher import build_detector, load_weights  # noqa: E402
from mmkd.quant import DetectorTensors, OnnxDetector, export_onnx  # noqa: E402


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run()`` in ms over ``repeats`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure(config: str, int8: str, checkpoint: str, size: int, batches: List[int], repeats: int,
            threads: int) -> Dict[str, object]:
    torch.set_num_threads(threads)
    detector = build_detector(Config.fromfile(config))
    if checkpoint:
        load_weights(detector, checkpoint, '--checkpoint', expected='the config')
    else:
        detector.init_weights()
    detector.eval()
    tensors = DetectorTensors(detector)
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path = osp.join(tmp, 'fp32.onnx')
        with torch.no_grad():
            export_onnx(detector, fp32_path, torch.zeros(1, 3, size, size))
        fp32_onnx, int8_onnx = OnnxDetector(fp32_path, detector, threads), OnnxDetector(int8, detector, threads)
        rows = []
        for batch in batches:
            inputs = torch.rand(batch, 3, size, size) * 255
            with torch.no_grad():
                pytorch_ms = median_ms(lambda: tensors(inputs), repeats)
            fp32_ms = median_ms(lambda: fp32_onnx.run(inputs), repeats)
            int8_ms = median_ms(lambda: int8_onnx.run(inputs), repeats)
            rows.append(dict(batch=batch, pytorch_fp32_ms=pytorch_ms, onnxruntime_fp32_ms=fp32_ms,
                             onnxruntime_int8_ms=int8_ms, speedup_vs_pytorch=pytorch_ms / int8_ms,
                             speedup_vs_onnxruntime_fp32=fp32_ms / int8_ms))
        sizes = dict(fp32_onnx_bytes=osp.getsize(fp32_path), int8_onnx_bytes=osp.getsize(int8))
    return dict(config=config, int8=int8, size=size, threads=threads, repeats=repeats, rows=rows,
                size_ratio=sizes['fp32_onnx_bytes'] / sizes['int8_onnx_bytes'], **sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the float (or QAT) config the artifact comes from')
    parser.add_argument('int8', help='the INT8 .onnx file (tools/deploy.py --int8)')
    parser.add_argument('--checkpoint', help='float weights (default: initialised; speed does not depend on them)')
    parser.add_argument('--size', type=int, default=416)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default='work_dirs/quant/int8_latency.json')
    args = parser.parse_args()
    result = measure(args.config, args.int8, args.checkpoint, args.size, args.batches, args.repeats, args.threads)
    print(f"{args.size} px, {args.threads} thread(s), median of {args.repeats}\n"
          '| batch | PyTorch FP32 ms | ONNX Runtime FP32 ms | ONNX Runtime INT8 ms | INT8 vs PyTorch | '
          'INT8 vs ORT FP32 |\n|---|---|---|---|---|---|')
    for row in result['rows']:
        print(f"| {row['batch']} | {row['pytorch_fp32_ms']:.1f} | {row['onnxruntime_fp32_ms']:.1f} | "
              f"{row['onnxruntime_int8_ms']:.1f} | {row['speedup_vs_pytorch']:.2f}x | "
              f"{row['speedup_vs_onnxruntime_fp32']:.2f}x |")
    print(f"file: FP32 ONNX {result['fp32_onnx_bytes'] / 1e6:.2f} MB, "
          f"INT8 ONNX {result['int8_onnx_bytes'] / 1e6:.2f} MB ({result['size_ratio']:.2f}x smaller)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
