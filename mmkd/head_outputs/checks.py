"""Set-up checks of the heads that response distillation entries name."""
from torch import nn

from mmkd.recorders.module_recorder import find_module

from .dense_outputs import check_dense_head


def check_response_heads(student: nn.Module, distiller: nn.Module) -> None:
    """Refuse, before anything is built, a response loss on a head it cannot parse.

    Every entry of ``distiller`` (a :class:`mmkd.engine.Distiller`) whose loss
    is a :class:`~mmkd.losses.response.DenseResponseLoss` must name a
    supported dense head of ``student`` (see :mod:`mmkd.head_outputs.dense_outputs`).

    Raises:
        TypeError: one line naming the ``distill[i]`` key, the head's class and
            the supported heads.
        KeyError: when the entry's student path matches no module.
    """
    from mmkd.losses.response import DenseResponseLoss  # the losses import this package
    for entry in distiller.entries:
        loss = distiller.losses[entry.name]
        if not isinstance(loss, DenseResponseLoss):
            continue
        head = find_module(student, entry.student.path, f'{entry.config_key}.student')
        try:
            check_dense_head(head)
        except TypeError as error:
            raise TypeError(f'{entry.config_key} ({type(loss).__name__} on student '
                            f'"{entry.student.path}"): {error}') from None
