"""Teacher-assistant distillation: train teacher -> assistant -> student, report each mAP.

The chain config names the trained teacher and the stages, each an mmkd
distillation config whose hook gets the previous stage as its teacher::

    teacher = dict(config='configs/yolox/yolox_teacher_synth.py',
                   checkpoint='work_dirs/yolox_teacher_synth/teacher.pth')
    stages = [dict(name='assistant', config='configs/distill/schemes/ta_assistant_yolox_synth.py'),
              dict(name='student', config='configs/distill/schemes/ta_student_yolox_synth.py')]
    metric = 'coco/bbox_mAP'

    python tools/teacher_assistant.py configs/distill/schemes/teacher_assistant_yolox_synth.py \\
        --work-dir work_dirs/ta_synth [--cfg-options train_cfg.max_epochs=12]

Each stage trains in ``WORK_DIR/<name>``; the table of metrics is printed and
written to ``WORK_DIR/chain_results.json``.
"""
import argparse
import json
import os.path as osp
import sys
from dataclasses import asdict

from mmengine.config import Config, DictAction
from mmengine.utils import mkdir_or_exist

import mmkd  # noqa: F401  (registers mmkd hooks and losses)
from mmkd.schemes.assistant import format_results, run_chain


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('chain', help='chain config: teacher=dict(config, checkpoint), stages=[...], metric=')
    parser.add_argument('--work-dir', required=True, help='each stage trains in WORK_DIR/<stage name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to every stage config, as in tools/train.py')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    chain = Config.fromfile(args.chain)
    for key in ('teacher', 'stages'):
        if key not in chain:
            print(f'error: {args.chain} has no "{key}"', file=sys.stderr)
            return 2
    mkdir_or_exist(args.work_dir)

    def prepare(cfg: Config) -> Config:
        cfg.merge_from_dict(args.cfg_options)
        return cfg

    results = run_chain(chain.teacher.to_dict(), [dict(stage) for stage in chain.stages], args.work_dir, prepare)
    print(format_results(results, chain.get('metric', 'coco/bbox_mAP')))
    with open(osp.join(args.work_dir, 'chain_results.json'), 'w') as file:
        json.dump([asdict(result) for result in results], file, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
