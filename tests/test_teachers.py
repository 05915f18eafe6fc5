"""Teacher sources: how a hook's ``teacher=`` becomes one, and the rule that schemes only pick one."""
import inspect

import pytest

import mmkd.schemes
from mmkd.hooks import DistillationHook
from mmkd.teachers import AveragedTeacher, FrozenTeacher, StudentTeacher, TeacherSource, build_teacher_source

NECK_MSE = dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))


def test_plain_teacher_dict_is_a_frozen_teacher():
    source = build_teacher_source(dict(config='teacher.py', checkpoint='teacher.pth'))
    assert isinstance(source, FrozenTeacher)
    assert (source.config, source.checkpoint, source.config_key) == ('teacher.py', 'teacher.pth', 'teacher')


def test_typed_teacher_builds_from_the_registry_and_built_sources_pass_through():
    assert isinstance(build_teacher_source(dict(type='mmkd.AveragedTeacher')), AveragedTeacher)
    source = StudentTeacher()
    assert build_teacher_source(source) is source
    hook = DistillationHook(teacher=dict(type='mmkd.StudentTeacher'), distill=[NECK_MSE])
    assert isinstance(hook.source, StudentTeacher)


@pytest.mark.parametrize('teacher', [None, dict(checkpoint='teacher.pth'), 'teacher.py'])
def test_teacher_without_config_is_refused_with_the_config_key(teacher):
    with pytest.raises(KeyError, match=r'teacher must be dict\(config=..., checkpoint=...\)'):
        DistillationHook(teacher=teacher, distill=[NECK_MSE])


def test_typed_teacher_of_another_kind_is_refused():
    with pytest.raises(TypeError, match='is not an mmkd.teachers.TeacherSource'):
        build_teacher_source(dict(type=dict))  # builds a dict, not a source


def test_no_scheme_overrides_a_private_step_of_the_hook():
    private = {name for name in dir(DistillationHook) if name.startswith('_') and not name.startswith('__')}
    for _, scheme in inspect.getmembers(mmkd.schemes, inspect.isclass):
        if issubclass(scheme, DistillationHook) and scheme is not DistillationHook:
            assert not private & set(vars(scheme)), scheme.__name__


def test_every_source_implements_the_required_steps():
    for source in (FrozenTeacher, AveragedTeacher, StudentTeacher, *TeacherSource.__subclasses__()):
        for name in ('build', 'describe', 'record'):
            assert getattr(source, name) is not getattr(TeacherSource, name), f'{source.__name__}.{name}'
