"""mmkd registries.

They are children of MMDetection's registries under the scope ``mmkd``, so
configs refer to mmkd classes as ``type='mmkd.DistillationHook'`` while the rest
of the config keeps ``default_scope = 'mmdet'``.
"""
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope, Registry
from torch import nn

HOOKS = Registry('hook', parent=MMDET_HOOKS, scope='mmkd', locations=['mmkd.hooks', 'mmkd.schemes'])
MODELS = Registry(
    'model',
    parent=MMDET_MODELS,
    scope='mmkd',
    locations=['mmkd.losses', 'mmkd.masks', 'mmkd.adapters', 'mmkd.teachers', 'mmkd.schemes'])
#: Teacher sources (:class:`mmkd.teachers.TeacherSource`): where a distillation hook's teacher side comes from.
TEACHERS = Registry('teacher source', scope='mmkd', locations=['mmkd.teachers'])


def build_mmkd_module(cfg: dict) -> nn.Module:
    """Build from :data:`MODELS` in the ``mmkd`` scope; unprefixed types fall back to mmdet's."""
    with DefaultScope.overwrite_default_scope('mmkd'):
        return MODELS.build(cfg)
