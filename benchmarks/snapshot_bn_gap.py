"""Why snapshot distillation ran away on NEON: a snapshot in eval mode is not the student it copies.

Trains the NEON student (configs/yolox/yolox_student_neon.py) through MMEngine's Runner for the
snapshot config's first cycle (40 iterations, 8 epochs of its 40-epoch schedule), as
configs/distill/schemes/snapshot_yolox_neon.py does before its first snapshot. Then, on training
batches, it compares the student's neck output in training mode (what the scheme distils) with the
neck of an exact copy of the student, the snapshot at that moment:

* in eval mode, normalising with the stored running BN statistics (what the snapshot taught with
  before, and what a frozen teacher does), and
* with the statistics of the batch (``mmkd.utils.modules.batch_statistics``, the snapshot's
  ``bn_statistics='batch'`` now).

The gap is the scheme's neck term without its weight, ``mmkd.FeatureMSELoss`` (sum over the neck
levels of the mean squared difference); with identical weights, an exact teacher gives 0.

    python benchmarks/snapshot_bn_gap.py [--seed 2] [--epochs 8] [--batches 5]
"""
import argparse
import copy
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import torch
from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.losses.feature.mse import FeatureMSELoss  # noqa: E402
from mmkd.utils.modules import batch_statistics, unwrap  # noqa: E402

STUDENT_CONFIG = REPO / 'configs' / 'yolox' / 'yolox_student_neon.py'


def neck(model: nn.Module, inputs: Tensor) -> List[Tensor]:
    return list(model.neck(model.backbone(inputs)))


def gaps(student: nn.Module, batches: List[dict]) -> Dict[str, float]:
    """Mean neck MSE over ``batches`` between the training-mode student and copies of it."""
    mse = FeatureMSELoss(loss_weight=1.0)
    totals = {'eval mode (running statistics)': 0.0, 'batch statistics': 0.0}
    with torch.no_grad():
        for batch in batches:
            inputs = batch['inputs']
            target = neck(copy.deepcopy(student).train(), inputs)  # a copy: the student's statistics stay
            snapshot = copy.deepcopy(student).eval()
            totals['eval mode (running statistics)'] += float(mse(target, neck(snapshot, inputs), None))
            with batch_statistics(snapshot):
                totals['batch statistics'] += float(mse(target, neck(snapshot, inputs), None))
    return {mode: total / len(batches) for mode, total in totals.items()}


class MeasureAtEpoch(Hook):
    """After ``epochs`` epochs: measure the gaps on ``batches`` training batches and stop training."""

    def __init__(self, epochs: int, batches: int) -> None:
        self.epochs, self.batches, self.result = epochs, batches, {}

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 < self.epochs:
            return
        student = unwrap(runner.model)
        batches = []
        for index, batch in enumerate(runner.train_dataloader):
            if index == self.batches:
                break
            batches.append(student.data_preprocessor(batch, True))
        self.result = gaps(student, batches)
        runner.train_loop.stop_training = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seed', type=int, default=2, help='the student seed (2: the seed the run-away was logged on)')
    parser.add_argument('--epochs', type=int, default=8, help='epochs before the first snapshot (8: 40 iterations)')
    parser.add_argument('--batches', type=int, default=5, help='training batches the gap is averaged over')
    args = parser.parse_args()
    cfg = Config.fromfile(str(STUDENT_CONFIG))
    cfg.randomness = dict(seed=args.seed)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        runner = Runner.from_cfg(cfg)
        measure = MeasureAtEpoch(args.epochs, args.batches)
        runner.register_hook(measure, 'LOWEST')
        runner.train()
    print(f'\nNEON student, seed {args.seed}, after {args.epochs} epochs ({runner.iter} iterations): neck MSE '
          f'between the training-mode student and a copy of it, mean over {args.batches} training batches\n')
    print('| the copy normalises with | neck MSE |\n|---|---|')
    for mode, value in measure.result.items():
        print(f'| {mode} | {value:.4g} |')


if __name__ == '__main__':
    main()
