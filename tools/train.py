"""Train a detector (mmdet's ``tools/train.py`` CLI) with mmkd loaded.

Plain mmdet configs run unchanged; configs with ``mmkd.DistillationHook``
distil. Missing configs, data or teacher files end with one error line and
exit code 2 before anything is built.
"""
import argparse

import mmkd  # noqa: F401  (mmkd registries, checkpoint loading fix)
from mmkd.utils.cli import add_runner_args, build_runner, fail, load_config, one_line_errors, parse_runner_args
from mmkd.utils.config_checks import check_checkpoint, check_data_files, check_teacher_files


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the LR by the total batch size (auto_scale_lr)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work dir')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            fail(f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                 f'{args.config}')
        cfg.auto_scale_lr.enable = True
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume
    with one_line_errors():
        if cfg.load_from:
            check_checkpoint(cfg.load_from, config=args.config)
        check_data_files(cfg, ('train', 'val'))
        check_teacher_files(cfg)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
