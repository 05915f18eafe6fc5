"""Test (and evaluate) a detector (mmdet's ``tools/test.py`` CLI) with mmkd.

Missing configs, checkpoints or data end with one error line and exit code 2
before anything is built.
"""
import argparse

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults

import mmkd  # noqa: F401  (mmkd registries, checkpoint loading fix)
from mmkd.utils.cli import add_runner_args, build_runner, fail, load_config, one_line_errors, parse_runner_args
from mmkd.utils.config_checks import check_checkpoint, check_data_files


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the predictions to this .pkl file')
    parser.add_argument(
        '--show', action='store_true', help='show the predictions')
    parser.add_argument(
        '--show-dir',
        help='save images painted with the predictions under '
        'work_dir/<timestamp>/<show_dir>')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per shown image')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        fail(f'--out {args.out}: the dump file must end with .pkl')
    cfg = load_config(args)
    with one_line_errors():
        check_checkpoint(args.checkpoint, config=args.config)
        check_data_files(cfg, ('test', ))
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    runner = build_runner(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
