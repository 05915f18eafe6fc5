"""Teacher-assistant (multi-step) distillation: teacher -> assistant(s) -> student.

A large capacity gap between teacher and student can hurt distillation; an
intermediate-size assistant, itself distilled from the teacher, bridges it.
Each stage is an ordinary mmkd distillation config (a model plus a
distillation hook); the chain fills each stage's ``teacher=`` with the
previous stage's config and final checkpoint, trains it, and evaluates it
with the runner's evaluator.

Mirzadeh et al., "Improved Knowledge Distillation via Teacher Assistant",
AAAI 2020.
"""
import os.path as osp
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from mmengine.config import Config
from mmengine.runner import Runner, find_latest_checkpoint

from mmkd.engine.evaluation import evaluate_detector
from mmkd.engine.standalone import distillation_hook_cfg
from mmkd.hooks import DistillationHook

Prepare = Callable[[Config], Config]


@dataclass
class StageResult:
    """One model of the chain: its config, weights and validation metrics."""
    name: str
    config: str
    checkpoint: str
    metrics: Dict[str, float]


def run_chain(teacher: dict, stages: List[dict], work_dir: str,
              prepare: Optional[Prepare] = None) -> List[StageResult]:
    """Train ``stages`` in order, each distilled from the one before.

    Args:
        teacher: ``dict(config=..., checkpoint=...)`` of the trained teacher.
        stages: ``[dict(name='assistant', config=PATH), dict(name='student',
            config=PATH)]``: distillation configs, each with one distillation
            hook that has a ``teacher`` argument (``mmkd.DistillationHook`` or a scheme).
        work_dir: each stage trains in ``work_dir/<name>``.
        prepare: applied to every stage config before training (e.g. data
            roots, ``--cfg-options``).

    Returns:
        The teacher's and every stage's :class:`StageResult`, in chain order;
        the teacher is evaluated on the first stage's val set.
    """
    results = [StageResult('teacher', teacher['config'], teacher['checkpoint'], {})]
    for stage in stages:
        runner = _stage_runner(stage, results[-1], work_dir, prepare)
        runner.train()
        if len(results) == 1:
            results[0].metrics = evaluate_detector(_distillation_hook(runner).teacher, runner.val_dataloader,
                                                   runner.val_evaluator)
        metrics = runner.val_loop.run()
        results.append(StageResult(stage['name'], osp.join(runner.work_dir, 'model_config.py'),
                                   find_latest_checkpoint(runner.work_dir), dict(metrics)))
    return results


def _stage_runner(stage: dict, previous: StageResult, work_dir: str, prepare: Optional[Prepare]) -> Runner:
    cfg = Config.fromfile(stage['config'])
    cfg.work_dir = osp.join(work_dir, stage['name'])
    cfg.experiment_name = f'{stage["name"]}_{time.strftime("%Y%m%d_%H%M%S")}'
    if prepare is not None:
        cfg = prepare(cfg)
    hook = distillation_hook_cfg(cfg)
    if 'teacher' not in hook:
        raise ValueError(f'stage "{stage["name"]}" ({stage["config"]}): its {hook["type"]} has no teacher= '
                         'argument to fill with the previous stage')
    hook['teacher'] = dict(config=previous.config, checkpoint=previous.checkpoint)
    runner = Runner.from_cfg(cfg)
    cfg.dump(osp.join(runner.work_dir, 'model_config.py'))
    return runner


def _distillation_hook(runner: Runner) -> DistillationHook:
    return next(hook for hook in runner.hooks if isinstance(hook, DistillationHook))


def format_results(results: List[StageResult], metric: str = 'coco/bbox_mAP') -> str:
    """A plain-text table: stage, ``metric``, checkpoint."""
    rows = [('stage', metric, 'checkpoint')]
    rows += [(r.name, f'{r.metrics[metric]:.4f}' if metric in r.metrics else '-', r.checkpoint) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows)
