"""Checks of the files a config needs, run by the tools before the runner.

Each check raises :class:`ConfigCheckError` with one line that names the
path and the fix, which ``tools/train.py`` and ``tools/test.py`` print
without a traceback (exit code 2).
"""
import json
import os.path as osp
from typing import Iterator, List, Mapping, Optional, Sequence

# COCO files larger than this are only checked to look like a JSON object;
# parsing all of COCO train2017 would take longer than a short run.
MAX_PARSED_ANNOTATION_BYTES = 64 * 2**20
COCO_KEYS = ('images', 'annotations', 'categories')
# data roots of the datasets mmkd generates, and their generators
GENERATED_DATASETS = {
    'neon_trees': 'tools/dataset_converters/neon_trees.py',
    'synthetic_shapes': 'tools/dataset_converters/synthetic_shapes.py',
}
WRAPPED_DATASET_KEYS = ('dataset', 'datasets')


class ConfigCheckError(ValueError):
    """A file named by a config is missing or malformed (one-line message)."""


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL (left to the file backends to check)."""
    return '://' in path


def data_fix(path: str) -> str:
    """How to create the data file ``path``."""
    for name, converter in GENERATED_DATASETS.items():
        if name in path:
            return f'run `make data` (or `python {converter}`)'
    return ('prepare the dataset, or fix data_root / ann_file / data_prefix '
            'in the config')


def check_config_file(path: str) -> None:
    """Check that the config file ``path`` exists."""
    if not osp.isfile(path):
        raise ConfigCheckError(
            f'config file not found: {path}; pass the path of an existing '
            'config (e.g. configs/yolox/yolox_student_neon.py)')


def check_checkpoint(path: str,
                     what: str = 'checkpoint',
                     config: str = 'CONFIG') -> None:
    """Check that a local checkpoint file exists.

    Args:
        path (str): The checkpoint.
        what (str): What the checkpoint is, for the message.
        config (str): The config that trains it, for the message.
    """
    if not is_remote(path) and not osp.isfile(path):
        raise ConfigCheckError(
            f'{what} not found: {path}; train it first '
            f'(python tools/train.py {config}) or pass an existing .pth file')


def iter_datasets(dataset: Mapping) -> Iterator[Mapping]:
    """The innermost dataset configs of a (possibly wrapped) dataset."""
    inner = [dataset[key] for key in WRAPPED_DATASET_KEYS if key in dataset]
    if not inner:
        yield dataset
    for child in inner:
        for sub in child if isinstance(child, (list, tuple)) else [child]:
            yield from iter_datasets(sub)


def join_root(data_root: Optional[str], path: str) -> str:
    """``path`` under ``data_root`` as MMEngine's ``BaseDataset`` joins it."""
    if data_root and not osp.isabs(path):
        return osp.join(data_root, path)
    return path


def is_coco_type(type_name: object) -> bool:
    """Whether a dataset or metric ``type`` reads COCO annotation files."""
    name = getattr(type_name, '__name__', str(type_name))
    return 'coco' in name.lower()


def check_coco_file(path: str) -> None:
    """Check that ``path`` is a COCO detection JSON file."""
    fix = f'{data_fix(path)}; it must be COCO JSON with keys ' \
          f'{", ".join(COCO_KEYS)}'
    if osp.getsize(path) > MAX_PARSED_ANNOTATION_BYTES:
        with open(path, 'rb') as f:
            if f.read(64).lstrip()[:1] != b'{':
                raise ConfigCheckError(
                    f'not a COCO annotation file: {path}; {fix}')
        return
    try:
        with open(path, encoding='utf-8') as f:
            coco = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigCheckError(
            f'not a COCO annotation file (invalid JSON: {e.msg}): {path}; '
            f'{fix}') from None
    if not isinstance(coco, dict) or not all(
            isinstance(coco.get(key), list) for key in COCO_KEYS):
        raise ConfigCheckError(f'not a COCO annotation file: {path}; {fix}')


def check_annotation_file(path: str, coco: bool, where: str) -> None:
    """Check that an annotation file exists (and is COCO if ``coco``)."""
    if is_remote(path):
        return
    if not osp.isfile(path):
        raise ConfigCheckError(
            f'{where}: annotation file not found: {path}; {data_fix(path)}')
    if coco:
        check_coco_file(path)


def check_dataset(dataset: Mapping, where: str) -> None:
    """Check the annotation file and data folders of one dataset config."""
    data_root = dataset.get('data_root')
    if dataset.get('ann_file'):
        check_annotation_file(
            join_root(data_root, dataset['ann_file']),
            is_coco_type(dataset.get('type')), where)
    prefixes = dataset.get('data_prefix') or {}
    for key, prefix in prefixes.items():
        folder = join_root(data_root, prefix) if prefix else data_root
        if folder and not is_remote(folder) and not osp.isdir(folder):
            raise ConfigCheckError(
                f'{where}: data_prefix.{key} folder not found: {folder}; '
                f'{data_fix(folder)}')


def as_list(value: object) -> List:
    """``value`` as a list (``None`` gives an empty one)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_evaluators(evaluators: object, where: str) -> None:
    """Check the annotation files of COCO-style metrics."""
    for metric in as_list(evaluators):
        if metric.get('ann_file'):
            check_annotation_file(metric['ann_file'],
                                  is_coco_type(metric.get('type')), where)


def check_data_files(cfg: Mapping, stages: Sequence[str]) -> None:
    """Check every data file that the given stages of ``cfg`` read.

    Args:
        cfg (Mapping): A loaded MMEngine config.
        stages (Sequence[str]): Any of ``'train'``, ``'val'``, ``'test'``;
            stages missing from the config are skipped.
    """
    for stage in stages:
        loader = cfg.get(f'{stage}_dataloader')
        if not loader or (stage != 'train' and not cfg.get(f'{stage}_cfg')):
            continue
        for dataset in iter_datasets(loader['dataset']):
            check_dataset(dataset, f'{stage}_dataloader')
        check_evaluators(cfg.get(f'{stage}_evaluator'), f'{stage}_evaluator')


def check_teacher_files(cfg: Mapping) -> None:
    """Check the config and checkpoint of each teacher of a custom hook.

    Hooks name a teacher as ``teacher=dict(config=..., checkpoint=...)`` or
    several as ``teachers=[...]``; scoped configs (``mmdet::...``) and URLs
    are left to the hook.
    """
    for hook in as_list(cfg.get('custom_hooks')):
        teachers = as_list(hook.get('teacher')) + as_list(
            hook.get('teachers'))
        for teacher in teachers:
            if not isinstance(teacher, Mapping):
                continue
            config = teacher.get('config')
            if config and '::' not in config and not osp.isfile(config):
                raise ConfigCheckError(
                    f'teacher config not found: {config}; fix teacher.config '
                    f'of {hook.get("type")} in custom_hooks')
            if teacher.get('checkpoint'):
                check_checkpoint(teacher['checkpoint'], 'teacher checkpoint',
                                 config or 'TEACHER_CONFIG')
