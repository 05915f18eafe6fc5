"""Set-up checks a teacher source runs once its teacher exists."""
from typing import Optional, Sequence

from torch import nn

from mmkd.engine.distiller import Distiller
from mmkd.utils.modules import find_module


def check_record_paths(distiller: Distiller, student: nn.Module, teacher: nn.Module) -> None:
    """Every path ``distiller`` records exists on its side (``student`` learns from ``teacher``)."""
    for entry in distiller.entries:
        find_module(student, entry.student.path, f'{entry.config_key}.student')
        find_module(teacher, entry.teacher.path, f'{entry.config_key}.teacher')
    distiller.bind_cross_heads(student, teacher)
    for name, loss in distiller.losses.items():
        for path in loss.required_records:
            find_module(student, path, f'{type(loss).__name__} ({name}) needs student module')
            find_module(teacher, path, f'{type(loss).__name__} ({name}) needs teacher module')


def check_class_sets(distiller: Distiller, student: nn.Module, teacher: nn.Module, teacher_meta: dict,
                     runner) -> None:
    """Response distillation pairs classes one to one: they must be the same."""
    responses = [entry for entry in distiller.entries if _compares_classes(distiller, entry)]
    if not responses:
        return
    student_classes = _dataset_classes(runner)
    teacher_classes = (teacher_meta.get('dataset_meta') or {}).get('classes')
    if student_classes and teacher_classes and tuple(student_classes) != tuple(teacher_classes):
        raise ValueError(f'{responses[0].config_key}: the teacher was trained on classes '
                         f'{tuple(teacher_classes)} but the student trains on {tuple(student_classes)}; '
                         'response distillation needs the same class list in the same order')
    student_n = getattr(getattr(student, 'bbox_head', None), 'num_classes', None)
    teacher_n = getattr(getattr(teacher, 'bbox_head', None), 'num_classes', None)
    if student_n is not None and teacher_n is not None and student_n != teacher_n:
        raise ValueError(f'{responses[0].config_key}: teacher bbox_head.num_classes={teacher_n} but '
                         f'student bbox_head.num_classes={student_n}; response distillation needs '
                         'a teacher trained on the same classes')


def _compares_classes(distiller: Distiller, entry) -> bool:
    """A response loss, or any loss on a dense head's outputs (its class maps)."""
    return distiller.losses[entry.name].compares_classes or entry.student.path.split('.')[0] == 'bbox_head'


def _dataset_classes(runner) -> Optional[Sequence[str]]:
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    return (getattr(dataset, 'metainfo', None) or {}).get('classes')
