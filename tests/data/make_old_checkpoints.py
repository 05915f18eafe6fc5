"""Write the pre-refactor checkpoints of ``tests/test_checkpoint_compat.py``.

Run against a checkout of the code whose checkpoints should keep resuming
(the files in this folder: commit 4a239c4, before the teacher sources)::

    git worktree add /tmp/mmkd-old 4a239c4
    cd /tmp/mmkd-old && PYTHONPATH=$PWD python /path/to/tests/data/make_old_checkpoints.py OUT_DIR

It trains, through MMEngine's Runner and the old checkout's own test configs,
on the synthetic data of ``tests/conftest.py``:

* the test teacher for one epoch (only to have a teacher file; not kept);
* ``yolox_tiny_distill_synth.py`` (offline: neck FeatureMSE through 1x1
  adapters, KD on class logits) for one epoch -> ``OUT_DIR/old_offline.pth``;
* the old ``mmkd.OnlineDistillationHook`` (DML, the teacher config as peer)
  for one epoch -> ``OUT_DIR/old_online.pth``.

Each saved checkpoint keeps every key ``Runner.resume`` and the hooks read
(``state_dict``, ``ema_state_dict``, ``optimizer``, ``param_schedulers``,
``message_hub``, ``meta``, ``mmkd``) and drops only the ``meta['cfg']`` text
(the whole config dump, unread on resume), so the files stay small.
"""
import argparse
import tempfile
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmkd


def _old_repo() -> Path:
    return Path(mmkd.__file__).resolve().parents[1]


def _synthetic_data(root: Path) -> str:
    try:  # the old layout; later commits moved it to mmkd.demo_data
        from mmkd.datasets.synthetic_shapes import ShapesParams, generate_synthetic_shapes
    except ImportError:
        from mmkd.demo_data.synthetic_shapes import ShapesParams, generate_synthetic_shapes
    generate_synthetic_shapes(root, num_train=24, num_val=4, seed=0,
                              params=ShapesParams(img_size=96, min_shapes=1, max_shapes=4, min_scale=0.15))
    return str(root).rstrip('/') + '/'


def _config(name: str, work_dir: Path, data_root: str) -> Config:
    """``tests/utils.py::load_config`` of the old checkout, one epoch, no validation."""
    cfg = Config.fromfile(str(_old_repo() / 'tests' / 'configs' / name))
    for section in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[section].dataset
        while 'dataset' in dataset:
            dataset = dataset.dataset
        dataset.data_root = data_root
    for section in ('val_evaluator', 'test_evaluator'):
        cfg[section].ann_file = data_root + 'annotations/val.json'
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(dict(train_cfg=dict(max_epochs=1, val_interval=5)))
    return cfg


def _train(cfg: Config) -> Path:
    Runner.from_cfg(cfg).train()
    return Path(cfg.work_dir) / 'epoch_1.pth'


def _keep(source: Path, target: Path) -> None:
    checkpoint = torch.load(str(source), map_location='cpu', weights_only=False)
    checkpoint['meta'].pop('cfg', None)
    torch.save(checkpoint, str(target))
    print(f'{target}: {target.stat().st_size / 1024:.0f} KiB, keys {sorted(checkpoint)}, '
          f"mmkd {sorted(checkpoint['mmkd'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_root = _synthetic_data(tmp / 'synthetic_shapes')
        teacher = _train(_config('yolox_tiny_teacher_synth.py', tmp / 'teacher', data_root))

        offline = _config('yolox_tiny_distill_synth.py', tmp / 'offline', data_root)
        hook = next(hook for hook in offline.custom_hooks if hook['type'] == 'mmkd.DistillationHook')
        hook['teacher']['checkpoint'] = str(teacher)
        _keep(_train(offline), args.out_dir / 'old_offline.pth')

        online = _config('yolox_tiny_synth.py', tmp / 'online', data_root)
        neck_mse = dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))
        cls_kd = dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
                      loss=dict(type='mmkd.KDLoss', temperature=2.0))
        online.custom_hooks = [*online.custom_hooks,
                               dict(type='mmkd.OnlineDistillationHook', distill=[neck_mse, cls_kd],
                                    peer=dict(config='tests/configs/yolox_tiny_teacher_synth.py'))]
        _keep(_train(online), args.out_dir / 'old_online.pth')


if __name__ == '__main__':
    main()
