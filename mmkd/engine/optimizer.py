"""Train the distillation modules with the student's optimizer and schedule.

MMEngine builds the optimizer and the parameter schedulers before the
``before_run`` hooks, and loads resumed optimizer/scheduler state after them.
The distillation modules (adapters, learnable parts of losses) only exist once
the hook has seen both models, so their parameters join the existing
optimizer as new parameter groups, and every scheduler of that optimizer is
extended to drive the new groups exactly as it drives the others. A resumed
run therefore finds the same groups it saved.
"""
from typing import Dict, Iterable, List, Sequence

from mmengine.optim import OptimWrapper
from torch import nn


def add_module_to_optimizer(optim_wrapper: OptimWrapper, schedulers: Iterable, module: nn.Module,
                            paramwise_cfg: Dict) -> int:
    """Add ``module``'s trainable parameters as new groups; returns their count.

    The groups use the optimizer's base hyper-parameters (``lr_mult`` 1),
    ``paramwise_cfg``'s ``norm_decay_mult``/``bias_decay_mult`` for norm
    weights and biases, and the current schedule factor of each scheduled
    hyper-parameter, so the new groups follow warm-up and decay with the rest.
    """
    if not isinstance(optim_wrapper, OptimWrapper):
        raise TypeError('mmkd.DistillationHook needs a single OptimWrapper (optim_wrapper=dict(...)); '
                        f'got {type(optim_wrapper).__name__}. Multiple optimizers are not supported.')
    optimizer = optim_wrapper.optimizer
    own_schedulers = [s for s in _flatten(schedulers) if _optimizer_of(s) is optimizer]
    scheduled_names = sorted({s.param_name for s in own_schedulers})
    groups = _parameter_groups(module, optimizer.defaults, paramwise_cfg)
    reference = optimizer.param_groups[0]
    for group in groups:
        for name in scheduled_names:
            factor = _schedule_factor(reference, name)
            group[f'initial_{name}'] = group[name]
            group[name] = group[name] * factor
        optimizer.add_param_group(group)
    for scheduler in own_schedulers:
        scheduler.base_values.extend(group[f'initial_{scheduler.param_name}'] for group in groups)
        if hasattr(scheduler, '_last_value'):
            scheduler._last_value.extend(group[scheduler.param_name] for group in groups)
    return sum(len(group['params']) for group in groups)


def _parameter_groups(module: nn.Module, defaults: Dict, paramwise_cfg: Dict) -> List[Dict]:
    decay, no_decay_norm, no_decay_bias = [], [], []
    norm_types = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)
    for submodule in module.modules():
        for name, param in submodule.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            if isinstance(submodule, norm_types):
                no_decay_norm.append(param)
            elif name == 'bias':
                no_decay_bias.append(param)
            else:
                decay.append(param)
    weight_decay = defaults.get('weight_decay', 0.0)
    specs = ((decay, 1.0), (no_decay_norm, paramwise_cfg.get('norm_decay_mult', 1.0)),
             (no_decay_bias, paramwise_cfg.get('bias_decay_mult', 1.0)))
    groups = []
    for params, decay_mult in specs:
        if params:
            group = {key: value for key, value in defaults.items() if key != 'params'}
            group.update(params=params, weight_decay=weight_decay * decay_mult)
            groups.append(group)
    return groups


def _schedule_factor(reference: Dict, name: str) -> float:
    initial = reference.get(f'initial_{name}', reference[name])
    if not isinstance(initial, (int, float)) or initial == 0:
        return 1.0
    return reference[name] / initial


def _optimizer_of(scheduler) -> object:
    optimizer = scheduler.optimizer
    return getattr(optimizer, 'optimizer', optimizer)


def _flatten(schedulers) -> Sequence:
    if schedulers is None:
        return []
    if isinstance(schedulers, dict):
        return [s for group in schedulers.values() for s in group]
    return list(schedulers)
