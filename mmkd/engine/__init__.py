from .distiller import DistillEntry, Distiller
from .optimizer import add_module_to_optimizer
from .schedule import LossWeightSchedule
from .teacher import TeacherInputConverter, build_frozen_detector, run_detector

__all__ = ['LossWeightSchedule', 'Distiller', 'DistillEntry', 'add_module_to_optimizer', 'TeacherInputConverter',
           'build_frozen_detector', 'run_detector']
