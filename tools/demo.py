"""The main job: teacher, baseline student and distilled student on NEON trees.

Trains each stage with ``tools/train.py`` (skipping stages whose final
checkpoint exists, resuming interrupted ones), evaluates every final
checkpoint with COCO metrics through the configs' ``CocoMetric``, and prints
a table (also written to ``work_dirs/demo/results.md`` and ``results.json``).

    python tools/demo.py [--methods fgd cwd] [--force]
"""
import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import mmkd  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

TEACHER_DIR = REPO / 'work_dirs' / 'yolox_teacher_neon'
DEMO_DIR = REPO / 'work_dirs' / 'demo'
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m')


@dataclass
class Stage:
    name: str
    config: str
    work_dir: Path

    @property
    def final_checkpoint(self) -> Path:
        epochs = Config.fromfile(str(REPO / self.config)).train_cfg.max_epochs
        return self.work_dir / f'epoch_{epochs}.pth'


def stages(methods: List[str]) -> List[Stage]:
    return [Stage('teacher (YOLOX, widen 0.5)', 'configs/yolox/yolox_teacher_neon.py', TEACHER_DIR),
            Stage('student baseline (widen 0.25)', 'configs/yolox/yolox_student_neon.py',
                  DEMO_DIR / 'student_baseline')] + [
            Stage(f'student + {method} distillation', f'configs/distill/{method}_yolox_neon.py',
                  DEMO_DIR / f'student_{method}') for method in methods]


def train(stage: Stage) -> float:
    """Train ``stage`` unless done; returns the seconds spent."""
    if stage.final_checkpoint.is_file():
        print(f'[demo] {stage.name}: {stage.final_checkpoint} exists, skipping training', flush=True)
        return 0.0
    command = [sys.executable, str(REPO / 'tools' / 'train.py'), stage.config, '--work-dir', str(stage.work_dir)]
    if (stage.work_dir / 'last_checkpoint').is_file():
        command.append('--resume')
    print(f'[demo] {stage.name}: training ({" ".join(command[1:])})', flush=True)
    start = time.time()
    with open(stage.work_dir.parent / f'{stage.work_dir.name}.train.log', 'w') as log:
        result = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode:
        sys.exit(f'[demo] {stage.name} failed; see {log.name}')
    return time.time() - start


def publish_teacher(stage: Stage) -> None:
    """The distillation configs read the teacher from ``teacher.pth``."""
    from tools.publish_model import publish  # noqa: E402
    target = TEACHER_DIR / 'teacher.pth'
    if not target.is_file() or target.stat().st_mtime < stage.final_checkpoint.stat().st_mtime:
        publish(stage.final_checkpoint, target)


def evaluate(stage: Stage) -> Dict[str, float]:
    cfg = Config.fromfile(str(REPO / stage.config))
    cfg.work_dir = str(stage.work_dir / 'eval')
    cfg.load_from = str(stage.final_checkpoint)
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks', []) if hook['type'] != 'mmkd.DistillationHook']
    metrics = Runner.from_cfg(cfg).test()
    return {key: metrics[f'coco/{key}'] for key in METRICS}


def table(rows: List[dict]) -> str:
    lines = ['| model | ' + ' | '.join(METRICS) + ' | train time (s) |',
             '|---|' + '---|' * (len(METRICS) + 1)]
    for row in rows:
        lines.append(f'| {row["name"]} | ' + ' | '.join(f'{row["metrics"][m]:.3f}' for m in METRICS)
                     + f' | {row["train_seconds"]:.0f} |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods', nargs='+', default=['fgd'],
                        help='distillation configs to run, configs/distill/<method>_yolox_neon.py')
    args = parser.parse_args()
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, stage in enumerate(stages(args.methods)):
        seconds = train(stage)
        if index == 0:
            publish_teacher(stage)
        rows.append(dict(name=stage.name, config=stage.config, train_seconds=seconds, metrics=evaluate(stage)))
    text = table(rows)
    (DEMO_DIR / 'results.md').write_text(text + '\n')
    (DEMO_DIR / 'results.json').write_text(json.dumps(rows, indent=2))
    print('\nCOCO bbox metrics on the NEON val tiles (python tools/demo.py):\n' + text)
    baseline, teacher = rows[1]['metrics']['bbox_mAP'], rows[0]['metrics']['bbox_mAP']
    for row in rows[2:]:
        gap = teacher - baseline
        closed = (row['metrics']['bbox_mAP'] - baseline) / gap if gap > 0 else float('nan')
        print(f'{row["name"]}: mAP {row["metrics"]["bbox_mAP"]:.3f} vs baseline {baseline:.3f} '
              f'({closed:.0%} of the teacher-baseline gap closed)')


if __name__ == '__main__':
    main()
