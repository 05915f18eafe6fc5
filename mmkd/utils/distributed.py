"""Let MMEngine's ``pytorch`` launcher run on CPU-only machines (gloo).

MMEngine 0.10.7 calls ``torch.cuda.set_device`` before
``init_process_group`` whatever the backend, which fails on a CPU build of
PyTorch, and wraps models in DDP with ``device_ids=[LOCAL_RANK]``, which
PyTorch refuses for CPU modules. mmkd keeps MMEngine's launcher and
PyTorch's DDP, and only removes those two CUDA assumptions when no GPU is
present.
"""
import torch
from mmengine.config import Config


def allow_cpu_process_groups() -> None:
    """Skip ``torch.cuda.set_device`` in MMEngine's launcher when CUDA is absent."""
    import mmengine.dist.utils as dist_utils
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_mmkd_cpu_aware', False):
        return

    def init_dist_pytorch(backend: str = 'nccl', init_backend: str = 'torch', **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._mmkd_cpu_aware = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


def adapt_config_to_cpu_ddp(cfg: Config) -> Config:
    """gloo backend and ``device_ids=None`` for a distributed run without GPUs."""
    if torch.cuda.is_available() or cfg.get('launcher', 'none') == 'none':
        return cfg
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg
