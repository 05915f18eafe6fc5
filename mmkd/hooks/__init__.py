from .distillation_hook import DistillationHook

__all__ = ['DistillationHook']
