"""Quantise a detector to INT8, export it for ONNX Runtime and evaluate it.

    python tools/deploy.py CONFIG CKPT --int8 OUT.onnx

A float config and checkpoint are quantised after training (PTQ, calibrated
on ``--calib-images`` training images); a QAT config
(``configs/distill/quant/``) and its checkpoint are exported as trained. The
tool prints the val metrics of the fake-quantised PyTorch model and of the
INT8 ONNX Runtime artifact, writes them to ``OUT.json``, and exits with code 1
when their mAPs differ by more than ``--max-map-gap``.
"""
import argparse
import json
import sys

import mmkd  # noqa: F401  (mmkd registries, checkpoint loading fix)
from mmkd.quant.deploy import deploy
from mmkd.utils.cli import add_runner_args, fail, load_config, one_line_errors, parse_runner_args
from mmkd.utils.config_checks import check_checkpoint, check_data_files


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='INT8 export and evaluation with ONNX Runtime')
    parser.add_argument('config', help='the config that trained CKPT (float or QAT)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--int8', required=True, metavar='OUT', help='the INT8 .onnx file to write')
    parser.add_argument('--calib-images', type=int, default=256,
                        help='training images that calibrate a float checkpoint (PTQ)')
    parser.add_argument('--save-calibrated', metavar='PTH',
                        help='also save the calibrated PyTorch checkpoint (the load_from of a QAT config)')
    parser.add_argument('--threads', type=int, help="ONNX Runtime's intra-op threads")
    parser.add_argument('--max-map-gap', type=float, default=0.005,
                        help='largest accepted |mAP(PyTorch fake-quant) - mAP(INT8 artifact)|')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        fail(f'{error}: install the quant extra (MMKD_EXTRAS=quant bash tools/install.sh)')
    cfg = load_config(args)
    with one_line_errors():
        check_checkpoint(args.checkpoint, config=args.config)
        check_data_files(cfg, ('train', 'val'))
    report = deploy(cfg, args.checkpoint, args.int8, args.calib_images, args.save_calibrated, args.threads)
    summary = report.to_dict()
    with open(args.int8 + '.json', 'w') as file:
        json.dump(summary, file, indent=2)
    pytorch_map, onnx_map = report.maps()
    float_map = '' if report.float_metrics is None else \
        f"FP32 {report.float_metrics.get('coco/bbox_mAP', 0.0):.4f}  "
    print(f'bbox_mAP  {float_map}PyTorch fake-quant {pytorch_map:.4f}  ONNX Runtime INT8 {onnx_map:.4f}  '
          f'gap {report.gap():.4f}  artifact {args.int8} ({report.artifact_bytes / 1e6:.2f} MB)')
    if report.gap() > args.max_map_gap:
        print(f'error: the INT8 artifact differs from the fake-quantised model by more than '
              f'{args.max_map_gap} mAP', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
