"""One rank of the 2-process CPU DDP test (launched by torchrun).

Trains the tiny distilled YOLOX with MMEngine's launcher and the gloo backend (the runner
tools/train.py builds),
then saves this rank's student and distillation-module weights.
"""
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from mmdet.utils import register_all_modules  # noqa: E402
from utils import distill_hook_cfg, find_distill_hook, load_config  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.utils.cli import build_runner  # noqa: E402
from mmkd.utils.distributed import adapt_config_to_cpu_ddp  # noqa: E402


def main(work_dir: str, data_root: str, teacher_checkpoint: str) -> None:
    register_all_modules(init_default_scope=False)
    cfg = load_config('yolox_tiny_distill_synth.py', Path(work_dir), data_root,
                      launcher='pytorch', train_cfg=dict(max_epochs=2, val_interval=5))
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = teacher_checkpoint
    adapt_config_to_cpu_ddp(cfg)
    runner = build_runner(cfg)  # as tools/train.py: with mmkd.RandomStateHook
    runner.train()
    rank = int(os.environ['RANK'])
    hook = find_distill_hook(runner)
    torch.save({'student': runner.model.module.state_dict(),
                'distiller': hook.distiller.state_dict(),
                'ddp_distiller': type(hook._calls[hook.distiller]).__name__},
               Path(work_dir) / f'rank{rank}.pth')


if __name__ == '__main__':
    main(*sys.argv[1:4])
