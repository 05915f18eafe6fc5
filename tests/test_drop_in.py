"""Drop-in use as a new user meets it: stock mmdet configs, test mode, strides, precision.

Each test stands for one way the hook broke on stock configs (issue 17): the
README snippet, ``tools/test.py`` with the training config, levels whose stride
does not divide the padded input, loss sums in float32, FGD's cell rule, empty
``HistoryBuffer``s on resume and an unknown loss type.
"""
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner
from utils import (
    CONFIGS,
    REPO,
    TINY_RESNET,
    TINY_RESNET_CHANNELS,
    distill_context,
    distill_hook_cfg,
    find_distill_hook,
    load_config,
    stock_config,
    train,
    untrained_checkpoint,
)

from mmkd.engine.distiller import Distiller
from mmkd.losses.feature.masked import masked_squared_error
from mmkd.losses.feature.pkd import standardized_mse
from mmkd.masks import GTBoxMask, ScaleAwareMask

RETINANET = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
RETINANET_STRIDES = [(8, 8), (16, 16), (32, 32), (64, 64), (128, 128)]


def retinanet(width: int) -> dict:
    """Model overrides: stock RetinaNet, thin ResNet-18, FPN and head ``width`` wide."""
    return dict(backbone=TINY_RESNET, neck=dict(in_channels=TINY_RESNET_CHANNELS, out_channels=width),
                bbox_head=dict(num_classes=3, in_channels=width, feat_channels=width, stacked_convs=1))


def readme_snippet() -> str:
    """The first Python block of README.md, exactly as printed."""
    text = (REPO / 'README.md').read_text()
    return re.search(r'```python\n(.*?)```', text, re.S).group(1)


# ------------------------------------------------------------------ README snippet
def _user_project(tmp_path: Path, student_base: str, teacher_config: str, teacher_checkpoint: str) -> Path:
    """The files the README snippet names, laid out as a user's project."""
    (tmp_path / 'configs' / 'yolox').mkdir(parents=True)
    (tmp_path / 'work_dirs' / 'yolox_l').mkdir(parents=True)
    (tmp_path / 'yolox_s_my_data.py').write_text(f"_base_ = '{student_base}'\n")
    (tmp_path / 'configs' / 'yolox' / 'yolox_l_my_data.py').write_text(f"_base_ = '{teacher_config}'\n")
    shutil.copy(teacher_checkpoint, tmp_path / 'work_dirs' / 'yolox_l' / 'epoch_300.pth')
    snippet = tmp_path / 'my_student_distill.py'
    snippet.write_text(readme_snippet())
    return snippet


def _train_snippet(snippet: Path, tmp_path: Path, synth_root: str, monkeypatch, **options) -> Runner:
    from utils import point_to_data
    monkeypatch.chdir(tmp_path)  # the snippet's teacher paths are relative to the project
    cfg = Config.fromfile(str(snippet))
    point_to_data(cfg, synth_root)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.merge_from_dict(dict(train_cfg=dict(max_epochs=1, val_interval=5), **options))
    return train(cfg)


def test_readme_snippet_runs_as_printed_on_a_yolox_config(tmp_path, synth_root, teacher_checkpoint,
                                                          monkeypatch):
    snippet = _user_project(tmp_path, str(CONFIGS / 'yolox_tiny_synth.py'),
                            str(CONFIGS / 'yolox_tiny_teacher_synth.py'), teacher_checkpoint)
    runner = _train_snippet(snippet, tmp_path, synth_root, monkeypatch)
    hook_types = [type(hook).__name__ for hook in runner.hooks]
    assert {'YOLOXModeSwitchHook', 'SyncNormHook', 'EMAHook', 'DistillationHook'} <= set(hook_types)
    for key in ('train/loss_neck_fgd', 'train/loss_cls_kd'):
        assert runner.message_hub.get_scalar(key).current() > 0, key
    assert find_distill_hook(runner).distiller.losses['neck_fgd'].in_channels == [64, 64, 64]


def test_readme_snippet_runs_on_a_stock_config_without_custom_hooks(tmp_path, synth_root, monkeypatch):
    student = stock_config(RETINANET, tmp_path, synth_root, retinanet(16))
    teacher = stock_config(RETINANET, tmp_path, synth_root, retinanet(24))
    assert 'custom_hooks' not in student
    student.dump(tmp_path / 'retinanet_student.py')
    teacher.dump(tmp_path / 'retinanet_teacher.py')
    checkpoint = untrained_checkpoint(teacher, tmp_path / 'teacher.pth')
    snippet = _user_project(tmp_path, str(tmp_path / 'retinanet_student.py'),
                            str(tmp_path / 'retinanet_teacher.py'), checkpoint)
    runner = _train_snippet(snippet, tmp_path, synth_root, monkeypatch)
    assert runner.message_hub.get_scalar('train/loss_neck_fgd').current() > 0
    assert find_distill_hook(runner).distiller.losses['neck_fgd'].in_channels == [24] * 5


# ------------------------------------------------------- stock RetinaNet, then test mode
@pytest.fixture(scope='module')
def retinanet_run(tmp_path_factory, synth_root):
    """A stock RetinaNet student distilled by a wider one (FGD on the neck, KD on the head)."""
    tmp_path = tmp_path_factory.mktemp('retinanet')
    teacher_cfg = stock_config(RETINANET, tmp_path, synth_root, retinanet(24))
    teacher_cfg.dump(tmp_path / 'teacher.py')
    hook = dict(type='mmkd.DistillationHook',
                teacher=dict(config=str(tmp_path / 'teacher.py'),
                             checkpoint=untrained_checkpoint(teacher_cfg, tmp_path / 'teacher.pth')),
                distill=[dict(name='neck_fgd', student='neck', teacher='neck', loss=dict(type='mmkd.FGDLoss')),
                         dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
                              loss=dict(type='mmkd.SigmoidKDLoss'))])
    cfg = stock_config(RETINANET, tmp_path / 'work', synth_root, retinanet(16), custom_hooks=[hook],
                       custom_imports=dict(imports=['mmkd'], allow_failed_imports=False))
    return tmp_path, train(cfg)


def test_stock_retinanet_distils_with_strides_from_the_probe(retinanet_run):
    _, runner = retinanet_run
    hook = find_distill_hook(runner)
    # 96 px inputs: P6 and P7 do not divide them (2 and 1 cells), their strides stay 64 and 128
    assert hook.distiller.level_strides['neck_fgd'] == RETINANET_STRIDES
    for key in ('train/loss_neck_fgd', 'train/loss_cls_kd'):
        values = torch.tensor(runner.message_hub.get_scalar(key).data[0])
        assert torch.isfinite(values).all() and (values > 0).all(), key


def test_testing_with_the_training_config_builds_no_teacher(retinanet_run):
    tmp_path, _ = retinanet_run
    (tmp_path / 'teacher.pth').unlink()  # a test run must not even look for the teacher
    dumped, = (tmp_path / 'work').glob('*.py')  # the config MMEngine dumped for the run
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    result = subprocess.run([sys.executable, 'tools/test.py', str(dumped), str(checkpoint),
                             '--work-dir', str(tmp_path / 'test')],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    assert 'Epoch(test) [1/1]' in log  # an untrained student may detect nothing: no mAP line then
    assert 'DistillationHook is idle' in log


# ----------------------------------------------------------------------------- strides
def test_strides_of_levels_that_do_not_divide_the_padded_input():
    # RetinaNet P3-P7 on a 320 x 224 batch: P6 is 5 x 4 cells, P7 3 x 2
    sizes = [(-(-320 // s), -(-224 // s)) for s, _ in RETINANET_STRIDES]
    ctx = distill_context([[[100, 100, 120, 120]]], (320, 224))
    with pytest.raises(ValueError, match='not a multiple of that level'):
        ctx.strides(sizes)
    ctx = ctx.with_level_strides(RETINANET_STRIDES)
    assert ctx.strides(sizes) == RETINANET_STRIDES
    teacher = [torch.zeros(1, 2, h, w) for h, w in sizes]
    mask = GTBoxMask()(teacher, teacher, ctx)
    # the box lies in cell (0, 0) of P7 (stride 128); the size ratio (106.7, 112) gave 4 cells
    assert mask[4][0, 0].nonzero().tolist() == [[0, 0]]
    assert mask[2][0, 0].nonzero().tolist() == [[3, 3]]  # stride 32: 100 / 32 = 3.1, 120 / 32 = 3.75


def test_distiller_hands_each_entry_its_probed_strides():
    distiller = Distiller([dict(name='gt', student='neck', teacher='neck',
                                loss=dict(type='mmkd.MaskedFeatureLoss', mask=dict(type='mmkd.GTBoxMask'),
                                          normalize='none'))])
    probe = [torch.zeros(2, 4, 256 // s, 256 // s) for s, _ in RETINANET_STRIDES]
    distiller.build_adapters({'neck': probe}, {'neck': probe}, (256, 256))
    assert distiller.level_strides['gt'] == RETINANET_STRIDES
    sizes = [(-(-320 // s), -(-224 // s)) for s, _ in RETINANET_STRIDES]
    student = [torch.zeros(1, 4, h, w) for h, w in sizes]
    teacher = [torch.zeros(1, 4, h, w) for h, w in sizes[:4]] + [torch.ones(1, 4, *sizes[4])]
    ctx = distill_context([[[100, 100, 120, 120]]], (320, 224))
    ctx.student_records, ctx.teacher_records = {'neck': student}, {'neck': teacher}
    # one P7 cell under the box, 4 channels of squared error 1
    assert distiller(ctx)['loss_gt'].item() == pytest.approx(4.0)


# ------------------------------------------------------------------------ FGD cell rule
@pytest.mark.parametrize('cells,expected', [
    ('overlap', {(0, 0): 1 / 4, (1, 1): 1 / 4, (2, 2): 1 / 4, (3, 3): 1 / 4, (2, 0): 0.0}),
    ('fgd_official', {(0, 0): 1 / 9, (2, 2): 1 / 9, (3, 3): 1 / 9, (2, 0): 1 / 9, (0, 3): 0.0}),
])
def test_fgd_cell_rules_by_hand(cells, expected):
    # stride 8 on 32 px: box A spans cells 0.5-1.5, box B 2.5-4 (at the border)
    ctx = distill_context([[[4, 4, 12, 12], [20, 20, 32, 32]]], (32, 32))
    levels = [torch.zeros(1, 1, 4, 4)]
    mask = ScaleAwareMask(fg_weight=1.0, bg_weight=0.0, cells=cells)(levels, levels, ctx)[0][0, 0]
    for (row, col), weight in expected.items():
        assert mask[row, col].item() == pytest.approx(weight), (row, col)


def test_fgd_cell_rule_is_checked():
    with pytest.raises(ValueError, match='cells must be one of'):
        ScaleAwareMask(cells='official')


# ---------------------------------------------------------------------------- precision
def test_masked_squared_error_is_accurate_in_float32():
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(1, 256, 80, 80, generator=generator) + 3
    teacher = torch.randn(1, 256, 80, 80, generator=generator)
    value = masked_squared_error([student], [teacher], [[]], 'none')
    exact = (student.double() - teacher.double()).square().sum()
    assert abs(value.double() - exact) / exact < 1e-6


def test_pkd_is_accurate_near_a_perfect_student():
    generator = torch.Generator().manual_seed(0)
    teacher = torch.randn(2, 64, 40, 40, generator=generator)
    student = teacher + 1e-3 * torch.randn(2, 64, 40, 40, generator=generator)  # 1 - r about 5e-7
    value = standardized_mse(student, teacher, eps=0.0).double()
    exact = standardized_mse(student.double(), teacher.double(), eps=0.0)
    assert exact < 1e-6
    assert abs(value - exact) / exact < 1e-3


# ------------------------------------------------------------------------ bad input, resume
def test_checkpoint_with_an_empty_history_buffer_loads():
    buffer = io.BytesIO()
    torch.save({'message_hub': {'log_scalars': {'train/loss_late': HistoryBuffer()}}}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)  # weights_only, as MMEngine's resume calls it
    assert len(loaded['message_hub']['log_scalars']['train/loss_late'].data[0]) == 0


def test_unknown_loss_type_names_the_entry_and_close_names():
    with pytest.raises(ValueError, match=r'distill\[1\]\.loss\.type="mmkd\.FGDLos" is not a registered '
                                         r'module; did you mean mmkd\.FGDLoss'):
        Distiller([dict(student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss')),
                   dict(student='neck', teacher='neck', loss=dict(type='mmkd.FGDLos'))])


def test_configured_in_channels_that_disagree_with_the_probe(tmp_path, synth_root, teacher_checkpoint):
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root)
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook['distill'] = [dict(name='fgd', student='neck', teacher='neck',
                            loss=dict(type='mmkd.FGDLoss', in_channels=[7, 7, 7]))]
    with pytest.raises(ValueError, match=r'distill\[0\]\.loss: FGDLoss in_channels=\[7, 7, 7\] but the '
                                         r'teacher levels have \[64, 64, 64\]'):
        train(cfg)


def test_dist_train_script_runs_from_a_fresh_shell(tmp_path, synth_root):
    """No activated venv, no torchrun on PATH: the script finds .venv's interpreter itself."""
    data = synth_root.rstrip('/') + '/'
    options = [f'{name}.data_root={data}' for name in ('train_dataloader.dataset.dataset',  # mosaic wrapper
                                                        'val_dataloader.dataset', 'test_dataloader.dataset')]
    options += [f'{name}.ann_file={data}annotations/val.json' for name in ('val_evaluator', 'test_evaluator')]
    command = ['bash', 'tools/dist_train.sh', 'tests/configs/yolox_tiny_synth.py', '1', '--work-dir',
               str(tmp_path), '--cfg-options', *options, 'train_cfg.max_epochs=1', 'train_cfg.val_interval=5']
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path), 'OMP_NUM_THREADS': '1'}
    if not (REPO / '.venv' / 'bin' / 'python').exists():  # a checkout installed elsewhere
        env['PYTHON'] = sys.executable
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert (tmp_path / 'epoch_1.pth').is_file()


@pytest.mark.parametrize('probe', [96, 128])
def test_a_probe_that_cannot_show_the_strides_is_refused(probe):
    # 96 px: P6 (stride 64) has 2 cells, a ratio of 48; 128 px: P7 (stride 128) has 1 cell, any stride fits
    distiller = Distiller([dict(name='gt', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))])
    levels = [torch.zeros(1, 4, -(-probe // s), -(-probe // s)) for s, _ in RETINANET_STRIDES]
    with pytest.raises(ValueError, match=r'distill\[0\]\.teacher neck: the probe batch .* make probe_input_size '
                                         r'a multiple of the largest stride and at least twice it'):
        distiller.build_adapters({'neck': levels}, {'neck': levels}, (probe, probe))
