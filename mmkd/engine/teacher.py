"""Build, load and freeze a teacher detector; feed it the student's batch."""
import os.path as osp
from typing import Any, Dict, Iterable, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn

from mmkd.engine.two_stage import run_roi_branches


def load_detector_config(path: str, config_key: str) -> Config:
    """A config from a file path or an ``mmdet::`` package path."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{config_key}="{path}" does not exist: give the teacher\'s mmdet config '
            '(a file path, or "mmdet::yolox/yolox_l_8xb8-300e_coco.py")')
    return Config.fromfile(path)


def build_detector(config: Config) -> nn.Module:
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(config.model)


def load_weights(model: nn.Module, checkpoint: str, config_key: str, expected: str = 'the teacher config') -> dict:
    """Load ``checkpoint`` into ``model``; every key must match both ways.

    ``expected`` names what ``model`` was built from in the error about a
    checkpoint of another model.
    """
    loaded = read_checkpoint(checkpoint, config_key)
    state_dict = state_dict_of(loaded)
    problems = _mismatches(model.state_dict(), state_dict)
    if problems:
        raise ValueError(f'{config_key}="{checkpoint}" does not match {expected}: ' + '; '.join(problems)
                         + f'. Check that {expected} is the one the checkpoint was trained with.')
    model.load_state_dict(state_dict, strict=True)
    return loaded.get('meta', {}) if isinstance(loaded, dict) else {}


def read_checkpoint(checkpoint: str, config_key: str) -> dict:
    """The contents of ``checkpoint`` (a path or URL) on the CPU; a missing file names ``config_key``."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'{config_key}="{checkpoint}" does not exist: train the teacher first '
            '(python tools/train.py TEACHER_CONFIG) or point to its .pth file')
    return _load_checkpoint(checkpoint, map_location='cpu')


def state_dict_of(loaded: dict) -> Dict[str, Tensor]:
    """The model weights of a loaded checkpoint, without DDP's ``module.`` prefix."""
    state_dict = loaded.get('state_dict', loaded)
    return {key[len('module.'):] if key.startswith('module.') else key: value for key, value in state_dict.items()}


def _mismatches(expected: dict, loaded: dict) -> list:
    """Missing, unexpected and wrongly shaped keys, a few of each."""
    groups = (('missing', [k for k in expected if k not in loaded]),
              ('unexpected', [k for k in loaded if k not in expected]),
              ('shape-mismatched', [f'{k} {tuple(loaded[k].shape)} vs {tuple(expected[k].shape)}'
                                    for k in expected if k in loaded and loaded[k].shape != expected[k].shape]))
    return [f'{name} keys: {", ".join(keys[:5])}{" ..." if len(keys) > 5 else ""}'
            for name, keys in groups if keys]


def freeze(model: nn.Module) -> nn.Module:
    """No gradients, eval mode (BN statistics and dropout frozen) for good."""
    model.requires_grad_(False)
    model.eval()
    return model


def build_frozen_detector(config_path: str, checkpoint: Optional[str], config_key: str,
                          device: torch.device) -> tuple:
    """``(model, config, checkpoint_meta)`` of a frozen detector on ``device``."""
    config = load_detector_config(config_path, f'{config_key}.config')
    model = build_detector(config)
    if checkpoint is None:
        raise ValueError(f'{config_key}.checkpoint is not set: an offline teacher needs trained weights')
    meta = load_weights(model, checkpoint, f'{config_key}.checkpoint')
    return freeze(model).to(device), config, meta


def run_detector(model: nn.Module, inputs: Tensor, record_paths: Iterable[str],
                 data_samples: Optional[Sequence[Any]] = None,
                 student_records: Optional[Dict[str, Any]] = None) -> None:
    """Run only as much of ``model`` as the recorded modules need.

    Backbone and neck paths stop after the features; dense heads (a
    single-stage ``bbox_head``, a two-stage ``rpn_head``) run on them. RoI
    branches run on the student's RoIs from ``student_records`` (the teacher's
    side; see :func:`run_roi_branches`), or, when ``student_records`` is
    ``None`` (the student itself), through the detector's ``_forward`` with
    its own proposals. Anything else runs ``_forward`` too. Modules are called
    (not their ``forward``) so that forward hooks fire.
    """
    from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
    paths = list(record_paths)
    tops = {path.split('.')[0] for path in paths}
    if tops <= {'backbone'}:
        model.backbone(inputs)
        return
    heads = tops - {'backbone', 'neck'}
    dense = {top for top in heads if isinstance(getattr(model, top, None), BaseDenseHead)}
    roi = heads & {'roi_head'}
    if heads - dense - roi or (roi and student_records is None):
        model._forward(inputs, data_samples)
        return
    features = model.extract_feat(inputs)
    for top in sorted(dense):
        getattr(model, top)(features)
    if roi:
        run_roi_branches(model.roi_head, features, paths, student_records)


class TeacherInputConverter:
    """Re-normalise the student's preprocessed batch for the teacher.

    The student's data preprocessor already normalised (and maybe swapped
    channels of) the batch; a teacher trained with other ``mean``/``std`` or
    channel order gets ``(S^-1(x) - mean_T) / std_T`` instead. Identity when
    both preprocessors agree.
    """

    def __init__(self, student_preprocessor: nn.Module, teacher_preprocessor: nn.Module) -> None:
        self.student = _Normalisation.of(student_preprocessor)
        self.teacher = _Normalisation.of(teacher_preprocessor)
        self.identity = self.student == self.teacher

    def __call__(self, inputs: Tensor) -> Tensor:
        if self.identity:
            return inputs
        raw = self.student.undo(inputs)
        if self.student.swap_channels != self.teacher.swap_channels:
            raw = raw.flip(1)
        return self.teacher.apply(raw)


class _Normalisation:

    def __init__(self, mean: Optional[Tensor], std: Optional[Tensor], swap_channels: bool) -> None:
        self.mean, self.std, self.swap_channels = mean, std, swap_channels

    @classmethod
    def of(cls, preprocessor: nn.Module) -> '_Normalisation':
        enabled = getattr(preprocessor, '_enable_normalize', False)
        mean = preprocessor.mean.detach().clone() if enabled else None
        std = preprocessor.std.detach().clone() if enabled else None
        return cls(mean, std, bool(getattr(preprocessor, '_channel_conversion', False)))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _Normalisation) and self.swap_channels == other.swap_channels
                and _same(self.mean, other.mean) and _same(self.std, other.std))

    def undo(self, inputs: Tensor) -> Tensor:
        if self.mean is None:
            return inputs
        return inputs * self.std.to(inputs) + self.mean.to(inputs)

    def apply(self, raw: Tensor) -> Tensor:
        if self.mean is None:
            return raw
        return (raw - self.mean.to(raw)) / self.std.to(raw)


def _same(a: Optional[Tensor], b: Optional[Tensor]) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(torch.allclose(a, b))
