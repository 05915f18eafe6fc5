"""Forward-hook callables that survive ``copy.deepcopy`` of their model."""
from typing import Any, Callable

from torch import nn


class BoundModuleHook:
    """Calls ``fn`` only for the module it was registered on.

    ``EMAHook`` and other tools deep-copy the student. A plain bound method
    registered as a hook would be deep-copied along with its owner (the
    distillation hook, teacher included); this object is shared instead, and
    stays silent on the copy because the copy is another module.
    """

    def __init__(self, module: nn.Module, fn: Callable[..., Any]) -> None:
        self.module, self.fn = module, fn

    def __call__(self, module: nn.Module, *args: Any) -> Any:
        if module is self.module:
            return self.fn(module, *args)
        return None

    def __deepcopy__(self, memo: dict) -> 'BoundModuleHook':
        return self
