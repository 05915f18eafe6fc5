"""Weight selection: the student starts from the teacher's weights at evenly spaced indices."""
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from utils import REPO, load, load_config, train, untrained_checkpoint

from mmkd.engine.teacher import build_detector, load_detector_config, state_dict_of
from mmkd.hooks.weight_selection_hook import select_weights


def test_every_dimension_takes_every_kth_element():
    teacher = {'conv.weight': torch.arange(4 * 6 * 3 * 3.0).reshape(4, 6, 3, 3), 'conv.bias': torch.arange(4.0),
               'bn.num_batches_tracked': torch.tensor(7), 'head.weight': torch.arange(6.0).reshape(1, 6)}
    student = {'conv.weight': torch.zeros(2, 3, 3, 3), 'conv.bias': torch.zeros(2),
               'bn.num_batches_tracked': torch.tensor(0), 'head.weight': torch.zeros(1, 2)}
    selected = select_weights(teacher, student)
    assert selected['conv.weight'].shape == (2, 3, 3, 3)
    # student [1, 2, 0, 0] is teacher [2, 4, 0, 0]: 2 * 54 + 4 * 9
    assert selected['conv.weight'][1, 2, 0, 0].item() == 144.0
    assert torch.equal(selected['conv.weight'], teacher['conv.weight'][::2, ::2])
    assert selected['conv.bias'].tolist() == [0.0, 2.0]
    assert selected['bn.num_batches_tracked'].item() == 7
    assert selected['head.weight'].tolist() == [[0.0, 3.0]]  # a stride of 3 where the width is a third


def test_selection_stays_consistent_across_a_channel_concatenation():
    """Two branches concatenated, then a 1x1 conv (a CSP block's shape): the half-width student's
    concatenation is exactly the teacher's at every other channel, so the next layer's selected inputs
    are the channels the student has."""
    torch.manual_seed(0)

    def network(width: int) -> torch.nn.ModuleDict:
        return torch.nn.ModuleDict(dict(a=torch.nn.Conv2d(3, width, 1), b=torch.nn.Conv2d(3, width, 1),
                                        c=torch.nn.Conv2d(2 * width, width, 1)))

    def concatenation(net: torch.nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net['a'](x), net['b'](x)], dim=1)

    teacher, student = network(4), network(2)
    student.load_state_dict(select_weights(teacher.state_dict(), student.state_dict()))
    x = torch.randn(2, 3, 5, 5)
    assert torch.allclose(concatenation(student, x), concatenation(teacher, x)[:, ::2])
    expected = torch.nn.functional.conv2d(concatenation(teacher, x)[:, ::2], teacher['c'].weight[::2, ::2],
                                          teacher['c'].bias[::2])
    assert torch.allclose(student['c'](concatenation(student, x)), expected)


def test_a_teacher_of_another_architecture_is_refused_with_the_keys():
    with pytest.raises(ValueError, match=r'missing in the teacher: extra.weight; not a whole multiple: '
                                         r'conv.weight \(3, 3\) vs \(2, 3\)'):
        select_weights({'conv.weight': torch.zeros(3, 3)},
                       {'conv.weight': torch.zeros(2, 3), 'extra.weight': torch.zeros(1)})


SELECTION_CONFIGS = sorted(str(path.relative_to(REPO)) for path in (REPO / 'configs' / 'distill').glob('*.py')
                           if any(hook['type'] == 'mmkd.WeightSelectionHook'
                                  for hook in Config.fromfile(str(path)).get('custom_hooks', [])))


@pytest.mark.parametrize('config', SELECTION_CONFIGS)
def test_shipped_configs_select_every_student_weight_from_their_teacher(config, monkeypatch):
    monkeypatch.chdir(REPO)  # teacher configs are paths relative to the repository
    cfg = Config.fromfile(config)
    student = build_detector(cfg).state_dict()
    teacher = build_detector(load_detector_config(cfg.teacher_config, 'teacher')).state_dict()
    selected = select_weights(teacher, student)
    assert selected.keys() == student.keys()
    assert all(selected[key].shape == value.shape for key, value in student.items())


class FirstWeights(Hook):
    """Keeps the student's state dict as the first training iteration sees it."""
    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.state = {key: value.clone() for key, value in runner.model.state_dict().items()}


def selection_run(work_dir, synth_root, checkpoint, **options) -> Runner:
    options = dict(dict(train_cfg=dict(max_epochs=1, val_interval=5)), **options)
    cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root, **options)
    cfg.custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=str(checkpoint))]
    runner = Runner.from_cfg(cfg)
    runner.register_hook(FirstWeights())
    return runner


def first_weights(runner: Runner) -> dict:
    return next(hook for hook in runner.hooks if isinstance(hook, FirstWeights)).state


def test_a_fresh_run_starts_from_the_selected_teacher_weights(tmp_path, synth_root, teacher_checkpoint):
    runner = selection_run(tmp_path, synth_root, teacher_checkpoint)
    runner.train()
    expected = select_weights(state_dict_of(load(teacher_checkpoint)), runner.model.state_dict())
    assert first_weights(runner).keys() == expected.keys()
    assert all(torch.equal(first_weights(runner)[key], expected[key]) for key in expected)
    assert not torch.equal(runner.model.state_dict()['bbox_head.multi_level_conv_cls.0.weight'],
                           expected['bbox_head.multi_level_conv_cls.0.weight'])  # and then it trained
    assert 'mmkd' not in load(tmp_path / 'epoch_1.pth')


def test_a_resumed_run_keeps_its_checkpoint_weights(tmp_path, synth_root, teacher_checkpoint):
    train(load_config('yolox_tiny_synth.py', tmp_path, synth_root, train_cfg=dict(max_epochs=1, val_interval=5)))
    runner = selection_run(tmp_path, synth_root, teacher_checkpoint, train_cfg=dict(max_epochs=2, val_interval=5),
                           resume=True, load_from=str(tmp_path / 'epoch_1.pth'))
    runner.train()
    saved = load(tmp_path / 'epoch_1.pth')
    key = 'bbox_head.multi_level_conv_cls.0.weight'
    # EMAHook saves the averaged weights as 'state_dict' and the trained ones under 'ema_state_dict'
    trained = saved['ema_state_dict'][f'module.{key}'] if 'ema_state_dict' in saved else saved['state_dict'][key]
    assert torch.equal(first_weights(runner)[key], trained)


def test_load_from_is_refused_before_any_training(tmp_path, synth_root, teacher_checkpoint):
    runner = selection_run(tmp_path, synth_root, teacher_checkpoint, load_from=str(teacher_checkpoint))
    with pytest.raises(ValueError, match=r'WeightSelectionHook and load_from=".*" both set the student\'s initial '
                                         r'weights: drop load_from or the WeightSelectionHook'):
        runner.train()


def test_a_student_wider_than_the_teacher_is_named(tmp_path, synth_root, teacher_checkpoint):
    runner = selection_run(tmp_path, synth_root, teacher_checkpoint, model=dict(backbone=dict(widen_factor=0.5)))
    with pytest.raises(ValueError, match=r'WeightSelectionHook.checkpoint=".*" cannot initialise the student by '
                                         r'weight selection \(not a whole multiple: backbone.stem'):
        runner.train()


def test_idle_in_a_test_run(tmp_path, synth_root, teacher_checkpoint):
    student = untrained_checkpoint(load_config('yolox_tiny_synth.py', tmp_path, synth_root), tmp_path / 'student.pth')
    runner = selection_run(tmp_path, synth_root, tmp_path / 'no_such_teacher.pth', load_from=student)
    runner.test()  # neither the missing teacher nor load_from is an error here
