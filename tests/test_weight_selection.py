"""Weight selection: the student starts from the teacher's weights at evenly spaced indices."""
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from utils import REPO, load, load_config, train, untrained_checkpoint

from mmkd.engine.teacher import build_detector, load_detector_config, state_dict_of
from mmkd.hooks.weight_selection_hook import (
    WeightSelectionHook,
    input_weight_keys,
    scale_to_teacher_fan_in,
    select_weights,
    uniform_indices,
)


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


def test_uniform_indices_take_every_kth_element_or_the_same_q_of_every_p():
    assert uniform_indices(4, 2).tolist() == [0, 2]
    assert uniform_indices(6, 2).tolist() == [0, 3]
    assert uniform_indices(5, 5).tolist() == [0, 1, 2, 3, 4]
    # 3/4 of the width: floor(4j / 3) for j = 0..5 keeps 0, 1, 2 of each 4
    assert uniform_indices(8, 6).tolist() == [0, 1, 2, 4, 5, 6]
    # 2/3: floor(3j / 2) keeps 0, 1 of each 3
    assert uniform_indices(9, 6).tolist() == [0, 1, 3, 4, 6, 7]


def test_a_three_quarter_width_student_takes_three_of_every_four_elements():
    teacher = {'conv.weight': torch.arange(8 * 4.0).reshape(8, 4, 1, 1)}
    selected = select_weights(teacher, {'conv.weight': torch.zeros(6, 3, 1, 1)})
    assert torch.equal(selected['conv.weight'], teacher['conv.weight'][[0, 1, 2, 4, 5, 6]][:, [0, 1, 2]])
    assert selected['conv.weight'][3, 2, 0, 0].item() == 4 * 4 + 2


@pytest.mark.parametrize('teacher_width, student_width', [(4, 2), (8, 6)])
def test_selection_stays_consistent_across_a_channel_concatenation(teacher_width, student_width):
    """Two branches concatenated, then a 1x1 conv (a CSP block's shape): at half and at 3/4 of the width the
    student's concatenation is exactly the teacher's at the selected channels, so the next layer's selected
    inputs are the channels the student has."""
    torch.manual_seed(0)

    def network(width: int) -> torch.nn.ModuleDict:
        return torch.nn.ModuleDict(dict(a=torch.nn.Conv2d(3, width, 1), b=torch.nn.Conv2d(3, width, 1),
                                        c=torch.nn.Conv2d(2 * width, width, 1)))

    def concatenation(net: torch.nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net['a'](x), net['b'](x)], dim=1)

    teacher, student = network(teacher_width), network(student_width)
    student.load_state_dict(select_weights(teacher.state_dict(), student.state_dict()))
    kept, outputs = uniform_indices(2 * teacher_width, 2 * student_width), uniform_indices(teacher_width,
                                                                                           student_width)
    x = torch.randn(2, 3, 5, 5)
    assert torch.allclose(concatenation(student, x), concatenation(teacher, x)[:, kept])
    expected = torch.nn.functional.conv2d(concatenation(teacher, x)[:, kept], teacher['c'].weight[outputs][:, kept],
                                          teacher['c'].bias[outputs])
    assert torch.allclose(student['c'](concatenation(student, x)), expected)


def test_a_teacher_of_another_architecture_is_refused_with_the_keys():
    with pytest.raises(ValueError, match=r'missing in the teacher: extra.weight; larger than the teacher: '
                                         r'conv.weight \(3, 3\) vs \(2, 4\)'):
        select_weights({'conv.weight': torch.zeros(3, 3)},
                       {'conv.weight': torch.zeros(2, 4), 'extra.weight': torch.zeros(1)})


def test_fan_in_scaling_multiplies_layer_weights_by_the_input_ratio():
    net = torch.nn.ModuleDict(dict(conv=torch.nn.Conv2d(4, 2, 3), depthwise=torch.nn.Conv2d(2, 2, 3, groups=2),
                                   up=torch.nn.ConvTranspose2d(2, 2, 2), bn=torch.nn.BatchNorm2d(2),
                                   fc=torch.nn.Linear(6, 1)))
    keys = input_weight_keys(net)
    assert keys == {'conv.weight', 'depthwise.weight', 'fc.weight'}  # not the transposed conv's, not the norm's
    teacher = {'conv.weight': torch.zeros(4, 8, 3, 3), 'conv.bias': torch.zeros(4),
               'depthwise.weight': torch.zeros(4, 1, 3, 3), 'bn.weight': torch.zeros(4),
               'fc.weight': torch.zeros(1, 18)}
    selected = {'conv.weight': torch.full((2, 4, 3, 3), 0.5), 'conv.bias': torch.full((2,), 0.5),
                'depthwise.weight': torch.full((2, 1, 3, 3), 0.5), 'bn.weight': torch.full((2,), 0.5),
                'fc.weight': torch.full((1, 6), 0.5)}
    scaled = scale_to_teacher_fan_in(selected, teacher, keys, power=1.0)
    # inputs 8 -> 4: x2; a depthwise conv keeps its one input per group: x1; 18 -> 6 features: x3
    assert {key: value.flatten()[0].item() for key, value in scaled.items()} == {
        'conv.weight': 1.0, 'conv.bias': 0.5, 'depthwise.weight': 0.5, 'bn.weight': 0.5, 'fc.weight': 1.5}
    square_root = scale_to_teacher_fan_in(selected, teacher, keys, power=0.5)
    assert square_root['conv.weight'].flatten()[0].item() == pytest.approx(0.5 * 2 ** 0.5)
    assert square_root['fc.weight'].flatten()[0].item() == pytest.approx(0.5 * 3 ** 0.5)
    # 8 -> 6 features (3/4 of the width): x4/3, not the whole-number quotient 1
    three_quarters = scale_to_teacher_fan_in({'fc.weight': torch.full((1, 6), 0.5)}, {'fc.weight': torch.zeros(1, 8)},
                                             {'fc.weight'}, power=1.0)
    assert three_quarters['fc.weight'][0, 0].item() == pytest.approx(0.5 * 4 / 3)


def test_fan_in_scaling_gives_the_teacher_output_where_the_selected_inputs_stand_for_the_rest():
    """Inputs that repeat in pairs (what uniform selection assumes of neighbouring channels): the
    scaled half-width layer computes the teacher layer's outputs at every other channel exactly."""
    torch.manual_seed(0)
    teacher, student = torch.nn.Conv2d(8, 4, 1), torch.nn.Conv2d(4, 2, 1)
    with torch.no_grad():
        teacher.weight[:, 1::2] = teacher.weight[:, ::2]  # neighbouring inputs weighted alike
    selected = select_weights(teacher.state_dict(), student.state_dict())
    student.load_state_dict(scale_to_teacher_fan_in(selected, teacher.state_dict(), input_weight_keys(student), 1.0))
    x = torch.randn(1, 4, 3, 3)
    assert torch.allclose(student(x), teacher(x.repeat_interleave(2, dim=1))[:, ::2], atol=1e-6)
    student.load_state_dict(selected)
    assert not torch.allclose(student(x), teacher(x.repeat_interleave(2, dim=1))[:, ::2], atol=1e-2)


def test_square_root_fan_in_scaling_keeps_the_output_variance_of_uncorrelated_inputs():
    torch.manual_seed(0)
    teacher = torch.nn.Linear(512, 64, bias=False)
    student = torch.nn.Linear(256, 32, bias=False)
    selected = select_weights(teacher.state_dict(), student.state_dict())
    x = torch.randn(20000, 512)
    teacher_variance = teacher(x).var().item()
    for power, ratio in ((0.0, 0.5), (0.5, 1.0), (1.0, 2.0)):  # output variance over the teacher's: 2^(2p - 1)
        student.load_state_dict(scale_to_teacher_fan_in(selected, teacher.state_dict(), {'weight'}, power))
        assert student(x[:, ::2]).var().item() / teacher_variance == pytest.approx(ratio, rel=0.05)


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


def selection_run(work_dir, synth_root, checkpoint, fan_in_power: float = 0.0, **options) -> Runner:
    options = dict(dict(train_cfg=dict(max_epochs=1, val_interval=5)), **options)
    cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root, **options)
    cfg.custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
    cfg.custom_hooks = cfg.custom_hooks + [
        dict(type='mmkd.WeightSelectionHook', checkpoint=str(checkpoint), fan_in_power=fan_in_power)]
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


def test_a_fresh_run_with_fan_in_scaling_starts_from_the_scaled_weights(tmp_path, synth_root, teacher_checkpoint):
    runner = selection_run(tmp_path, synth_root, teacher_checkpoint, fan_in_power=0.5)
    runner.train()
    teacher = state_dict_of(load(teacher_checkpoint))
    selected = select_weights(teacher, runner.model.state_dict())
    first = first_weights(runner)
    cls_key, norm_key = 'bbox_head.multi_level_conv_cls.0.weight', 'bbox_head.multi_level_cls_convs.0.0.bn.weight'
    ratio = teacher[cls_key].shape[1] // selected[cls_key].shape[1]
    assert ratio == 2
    assert torch.allclose(first[cls_key], 2 ** 0.5 * selected[cls_key])
    assert torch.equal(first[norm_key], selected[norm_key])


@pytest.mark.parametrize('power', ['1', True, -0.5])
def test_fan_in_power_must_be_a_number_from_zero(power):
    with pytest.raises(ValueError, match=r'WeightSelectionHook.fan_in_power must be a number >= 0 \(0: no scaling\), '
                                         f'got {power!r}'):
        WeightSelectionHook('teacher.pth', fan_in_power=power)


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
                                         r'weight selection \(larger than the teacher: backbone.stem'):
        runner.train()


def test_idle_in_a_test_run(tmp_path, synth_root, teacher_checkpoint):
    student = untrained_checkpoint(load_config('yolox_tiny_synth.py', tmp_path, synth_root), tmp_path / 'student.pth')
    runner = selection_run(tmp_path, synth_root, tmp_path / 'no_such_teacher.pth', load_from=student)
    runner.test()  # neither the missing teacher nor load_from is an error here
