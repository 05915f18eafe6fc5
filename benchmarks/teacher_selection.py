"""Which teacher a multi-teacher policy uses over training, read from the benchmark's records.

For every seed of a multi-teacher method (default: the EXP3 bandit on NEON), the records of
``tools/benchmark.py`` keep the teacher weights ``w_<teacher>`` and the selector's reward
``teacher_reward`` at every logged iteration (every 5th: MMEngine's log processor averages losses
over the window but logs other scalars as their latest value). For a bandit the weight is the
one-hot pick, so its mean over the logged iterations is the pick frequency on a 1-in-5 sample.
Prints each teacher's share (mean weight over the run), the mean reward and the student's val
mAP against the fixed average of the same seed; plots both over training (moving average over
5 logged points, 25 iterations; weights averaged over seeds).

    python benchmarks/teacher_selection.py                                    # multi_teacher_bandit, NEON
    python benchmarks/teacher_selection.py --method multi_teacher_learned     # the learnt weights
    python benchmarks/teacher_selection.py --method multi_teacher_confidence --reference sigmoid_kd \
        --results benchmarks/results_zen4                                     # another machine's records
"""
import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tools.benchmark import RESULTS_DIR as RESULTS  # noqa: E402
from tools.benchmark import moving_average  # noqa: E402

WEIGHT = 'w_'
REWARD = 'teacher_reward'


def records(results: Path, dataset: str, method: str) -> Dict[int, dict]:
    files = sorted((results / dataset / method).glob('seed*.json'))
    if not files:
        sys.exit(f'--method {method}: no records under {results / dataset / method}; run '
                 f'`python tools/benchmark.py --datasets {dataset} --methods {method} --results {results}` first')
    return {int(path.stem[4:]): json.loads(path.read_text()) for path in files}


def teachers(record: dict) -> List[str]:
    return sorted({key[len(WEIGHT):] for point in record['losses'] for key in point if key.startswith(WEIGHT)})


def mean_of(record: dict, key: str) -> float:
    return statistics.fmean(point[key] for point in record['losses'] if key in point)


def table(results: Path, dataset: str, method: str, reference: str) -> str:
    runs = records(results, dataset, method)
    names = teachers(next(iter(runs.values())))
    fixed = records(results, dataset, reference)
    lines = [f'| seed | {" | ".join(f"share {name}" for name in names)} | mean reward | mAP | mAP {reference} |',
             '|---|' + '---|' * (len(names) + 3)]
    for seed, record in sorted(runs.items()):
        shares = ' | '.join(f'{mean_of(record, WEIGHT + name):.2f}' for name in names)
        reward = f'{mean_of(record, REWARD):.3f}' if any(REWARD in point for point in record['losses']) else '-'
        paired = f'{fixed[seed]["metrics"]["bbox_mAP"]:.3f}' if seed in fixed else '-'
        lines.append(f'| {seed} | {shares} | {reward} | {record["metrics"]["bbox_mAP"]:.3f} | {paired} |')
    return '\n'.join(lines)


def plot(results: Path, dataset: str, method: str, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    runs = records(results, dataset, method)
    names = teachers(next(iter(runs.values())))
    steps = [point['step'] for point in next(iter(runs.values()))['losses']]
    rewarded = any(REWARD in point for record in runs.values() for point in record['losses'])
    figure, axes = plt.subplots(1, 1 + rewarded, figsize=(5.5 * (1 + rewarded), 4), squeeze=False)
    weight_axes = axes[0, 0]
    for name in names:
        per_step = [statistics.fmean(record['losses'][index].get(WEIGHT + name, 0.0) for record in runs.values())
                    for index in range(len(steps))]
        weight_axes.plot(steps, moving_average(per_step), label=name)
    weight_axes.set_title(f'teacher weight or pick frequency\n(mean of {len(runs)} seeds, moving average)', fontsize=9)
    weight_axes.set_xlabel('iteration')
    weight_axes.legend(fontsize=8)
    if rewarded:
        plot_rewards(runs, axes[0, 1])
    figure.suptitle(f'{method} on {dataset}', fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_rewards(runs: Dict[int, dict], reward_axes) -> None:
    for seed, record in sorted(runs.items()):
        points = [point for point in record['losses'] if REWARD in point]
        reward_axes.plot([point['step'] for point in points], moving_average([point[REWARD] for point in points]),
                         label=f'seed {seed}', alpha=0.7)
    reward_axes.axhline(0.5, color='grey', linewidth=0.8)
    reward_axes.set_title('reward, moving average\n(0.5: detection loss unchanged)', fontsize=9)
    reward_axes.set_xlabel('iteration')
    reward_axes.legend(fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', default='neon')
    parser.add_argument('--method', default='multi_teacher_bandit')
    parser.add_argument('--reference', default='multi_teacher',
                        help='the method to compare with on the same seeds (default: the fixed weights)')
    parser.add_argument('--results', type=Path, default=RESULTS, help='the records\' folder (tools/benchmark.py)')
    parser.add_argument('--plot', type=Path, help='where the plot goes (default: docs/images/<method>_<dataset>.png)')
    args = parser.parse_args()
    print(table(args.results, args.dataset, args.method, args.reference))
    path = args.plot or REPO / 'docs' / 'images' / f'{args.method}_{args.dataset}.png'
    plot(args.results, args.dataset, args.method, path)
    print(f'\nplot: {path.relative_to(REPO) if path.is_relative_to(REPO) else path}')


if __name__ == '__main__':
    main()
