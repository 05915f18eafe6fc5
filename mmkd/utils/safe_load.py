"""Let MMEngine checkpoints load under ``torch.load(weights_only=True)``.

PyTorch >= 2.6 loads checkpoints with ``weights_only=True`` by default, and
MMEngine 0.10.7 calls ``torch.load`` without the argument, so ``--resume``
fails on the message hub's ``HistoryBuffer`` and the numpy arrays inside it.
Instead of switching ``weights_only`` off, mmkd allow-lists exactly the types
that MMEngine and MMDetection write into a checkpoint.

``HistoryBuffer`` keeps its statistics functions (``min``, ``max``, ``mean``,
``current``) in a dict that pickle writes as ``getattr(HistoryBuffer, name)``.
A general ``getattr`` would let a crafted checkpoint reach any attribute of an
allowed class, so mmkd registers, under the name ``builtins.getattr``, a
function that resolves only public attributes of ``HistoryBuffer`` itself.
"""
import pickle
from typing import Any, List

import numpy as np
import torch


def _numpy_types() -> List[object]:
    """numpy's array reconstruction entry points and the dtypes it pickles."""
    multiarray = getattr(np, '_core', None) or np.core
    dtype_classes = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG']
    scalar_types = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                    np.uint32, np.int64, np.uint64, np.float16, np.float32, np.float64]
    # an empty array pickles its (empty) buffer as ``bytes`` (``HistoryBuffer()``
    # before its first update, e.g. a loss key logged only in later epochs)
    return [multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
            np.ndarray, np.dtype, *dtype_classes, *scalar_types, bytes]


def history_buffer_getattr(owner: Any, name: str) -> Any:
    """``getattr`` restricted to the public methods of ``HistoryBuffer``."""
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and not name.startswith('_') and callable(vars(HistoryBuffer).get(name)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(f'mmkd refuses getattr({owner!r}, {name!r}) in a checkpoint: only '
                                 'HistoryBuffer statistics are allowed')


def checkpoint_safe_globals() -> List[object]:
    """Every non-tensor type an MMEngine/MMDetection training checkpoint holds."""
    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, (history_buffer_getattr, 'builtins.getattr'), *_numpy_types()]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`checkpoint_safe_globals` with ``torch.serialization``."""
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
