"""What ``tools/train.py``, ``tools/test.py`` and the dataset converters share.

Errors a user can fix (a wrong path, missing data) end the tool with one
``error: ...`` line on stderr and exit code 2, as argparse does for bad
arguments.
"""
import argparse
import os
import os.path as osp
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator, NoReturn, Type

from mmdet.registry import RUNNERS
from mmdet.utils import setup_cache_size_limit_of_dynamo
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmkd.hooks.random_state_hook import RandomStateHook

from .config_checks import ConfigCheckError, check_config_file
from .distributed import adapt_config_to_cpu_ddp

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit with code 2."""
    print(f'error: {message}', file=sys.stderr)
    sys.exit(EXIT_USAGE)


@contextmanager
def one_line_errors(*errors: Type[BaseException]) -> Iterator[None]:
    """Turn the given exceptions into :func:`fail` (default: config checks)."""
    handled = errors or (ConfigCheckError, )
    try:
        yield
    except handled as e:
        fail(str(e))


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the options that train and test share with mmdet's tools."""
    parser.add_argument(
        '--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it; a list value reads key="[a,b]" or key=a,b, nested '
        'lists/tuples key="[(a,b),(c,d)]" (quotes needed, no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank, older versions
    # --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the arguments; export ``LOCAL_RANK`` if the launcher did not."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with the CLI overrides applied.

    Sets ``launcher``, merges ``--cfg-options``, picks ``work_dir`` in the
    order: ``--work-dir``, the config's ``work_dir``, then
    ``./work_dirs/<config name>``, and switches a distributed run without
    GPUs to gloo and CPU DDP.

    Returns:
        Config: The config.
    """
    with one_line_errors():
        check_config_file(args.config)
    try:
        with warnings.catch_warnings():
            # resolving `mmdet::` bases imports pkg_resources, which
            # setuptools>=80 flags as deprecated on every run
            warnings.filterwarnings(
                'ignore', 'pkg_resources is deprecated', UserWarning)
            cfg = Config.fromfile(args.config)
    except FileNotFoundError as e:
        fail(f'cannot load config {args.config}: {e}')
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    adapt_config_to_cpu_ddp(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The config's runner (``runner_type`` from the registry, else MMEngine's ``Runner``), with
    :class:`mmkd.hooks.RandomStateHook` registered unless the config lists it."""
    # fewer repeated compilations when the model is compiled
    setup_cache_size_limit_of_dynamo()
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if not any(isinstance(hook, RandomStateHook) for hook in runner.hooks):
        runner.register_hook(RandomStateHook())  # a resumed run draws what an uninterrupted one would
    return runner
