"""Module helpers used across mmkd: lookup by path, unwrapping, eval mode, batch statistics, detaching."""
import difflib
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from mmengine.model import is_model_wrapper
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


def find_module(model: nn.Module, path: str, config_key: str) -> nn.Module:
    """``model``'s submodule at the dotted ``path``, or an error naming ``config_key`` and close names."""
    modules = dict(model.named_modules())
    if path in modules:
        return modules[path]
    close = difflib.get_close_matches(path, [name for name in modules if name], n=5, cutoff=0.5)
    hint = f' Close names: {", ".join(close)}.' if close else ''
    top = ', '.join(name for name, _ in model.named_children())
    raise KeyError(f'{config_key}="{path}" matches no module of {type(model).__name__} '
                   f'(its top-level modules: {top}).{hint}')


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP (or other MMEngine model) wrapper, else ``module``."""
    return module.module if is_model_wrapper(module) else module


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Evaluation mode (BN statistics frozen) for the block, then the previous mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@contextmanager
def batch_statistics(module: nn.Module) -> Iterator[nn.Module]:
    """Every batch norm of ``module`` normalises with the statistics of the batch it sees, as in training, and
    leaves its running statistics (and counter) untouched; the previous modes afterwards."""
    norms = [norm for norm in module.modules() if isinstance(norm, _BatchNorm)]
    saved = [(norm.training, norm.track_running_stats) for norm in norms]
    for norm in norms:
        norm.train()
        norm.track_running_stats = False  # train mode without running statistics: batch statistics, no update
    try:
        yield module
    finally:
        for norm, (training, tracks) in zip(norms, saved):
            norm.train(training)
            norm.track_running_stats = tracks


def map_tensors(fn: Callable[[Tensor], Tensor], value: Any) -> Any:
    """Apply ``fn`` to every tensor of a nested tuple/list/dict, keeping its structure."""
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(map_tensors(fn, item) for item in value)
    if isinstance(value, dict):
        return {key: map_tensors(fn, item) for key, item in value.items()}
    return value


def detach_tensors(value: Any) -> Any:
    """``value`` with every tensor detached: a teacher side that sends back no gradient."""
    return map_tensors(Tensor.detach, value)
