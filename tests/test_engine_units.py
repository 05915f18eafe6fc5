"""Unit tests of the engine's parts, on hand-computed cases."""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR
from torch import nn
from utils import distill_context, gt_sample

from mmkd.adapters import ConvAdapter
from mmkd.context import pad_ground_truth
from mmkd.engine.optimizer import add_module_to_optimizer
from mmkd.engine.schedule import LossWeightSchedule
from mmkd.engine.teacher import TeacherInputConverter
from mmkd.losses import FeatureMSELoss, KDLoss
from mmkd.recorders import ModuleRecorder, parse_record_key
from mmkd.utils.modules import find_module


def test_feature_mse_hand_computed():
    student = [torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), torch.ones(1, 1, 1, 1)]
    teacher = [torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1)]
    # level 0: (1 + 4 + 9 + 16) / 4 = 7.5; level 1: 1; sum 8.5, times weight 2
    assert FeatureMSELoss(loss_weight=2.0)(student, teacher, distill_context([[]], 8)).item() == pytest.approx(17.0)
    # sum reduction: (30 + 1) / batch 1
    assert FeatureMSELoss(reduction='sum')(student, teacher, distill_context([[]], 8)).item() == pytest.approx(31.0)


def test_feature_mse_gradient_reaches_student_only():
    student = torch.randn(2, 3, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 3, 4, 4)
    FeatureMSELoss()([student], [teacher], distill_context([[], []], 8)).backward()
    expected = 2 * (student - teacher) / student.numel()
    assert torch.allclose(student.grad, expected)


def test_kd_loss_hand_computed():
    # one location, two classes; T = 2
    student = [torch.tensor([0.0, 0.0]).view(1, 2, 1, 1)]
    teacher = [torch.tensor([2.0 * math.log(3.0), 0.0]).view(1, 2, 1, 1)]
    # softmax(teacher / 2) = (3/4, 1/4); softmax(student / 2) = (1/2, 1/2)
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    loss = KDLoss(temperature=2.0, loss_weight=1.0)(student, teacher, distill_context([[]], 8))
    assert loss.item() == pytest.approx(4 * kl, rel=1e-5)


def test_kd_loss_is_zero_for_equal_logits_and_levels_are_pooled():
    logits = [torch.randn(2, 5, 4, 4), torch.randn(2, 5, 2, 2)]
    assert KDLoss(temperature=3.0)(logits, logits, distill_context([[], []], 8)).item() == pytest.approx(0.0, abs=1e-6)


def test_conv_adapter_maps_channels_and_resizes():
    adapter = ConvAdapter(4, 6, norm=True, resize=True)
    out = adapter(torch.randn(2, 4, 8, 8), target_size=(4, 4))
    assert out.shape == (2, 6, 4, 4)
    assert ConvAdapter(4, 6)(torch.randn(1, 4, 8, 8), (4, 4)).shape == (1, 6, 8, 8)


@pytest.mark.parametrize('iteration,epoch,expected', [(0, 0, 0.25), (3, 0, 1.0), (10, 1, 1.0), (20, 2, 0.0),
                                                       (50, 1, 0.0)])
def test_loss_weight_schedule(iteration, epoch, expected):
    schedule = LossWeightSchedule(warmup_iters=4, stop_epoch=2, stop_iter=50)
    assert schedule.factor(iteration, epoch) == pytest.approx(expected)


def test_loss_weight_schedule_start_iter_delays_the_warmup():
    schedule = LossWeightSchedule(warmup_iters=4, start_iter=10)
    assert [schedule.factor(iteration, 0) for iteration in (0, 9, 10, 11, 13, 20)] == [0.0, 0.0, 0.25, 0.5, 1.0, 1.0]
    with pytest.raises(ValueError, match='schedule.start_iter must be >= 0'):
        LossWeightSchedule(start_iter=-1)


def test_record_keys_and_close_names():
    assert parse_record_key('neck[1]').path == 'neck' and parse_record_key('neck[1]').index == 1
    assert parse_record_key('backbone.stage4').index is None
    with pytest.raises(ValueError, match='module path'):
        parse_record_key('neck[a]')
    model = nn.Sequential()
    model.add_module('neck', nn.Conv2d(1, 1, 1))
    with pytest.raises(KeyError, match='distill\\[0\\].student="nek".*Close names: neck'):
        find_module(model, 'nek', 'distill[0].student')


def test_recorder_records_only_while_active_and_ignores_deep_copies():
    import copy
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU())
    recorder = ModuleRecorder(model, ['0'], 'test')
    recorder.attach()
    model(torch.ones(1, 1, 2, 2))
    assert recorder.records == {}
    recorder.active = True
    clone = copy.deepcopy(model)
    clone(torch.ones(1, 1, 2, 2))
    assert recorder.records == {}
    model(torch.ones(1, 1, 2, 2))
    assert recorder.records['0'].shape == (1, 2, 2, 2)
    recorder.detach()
    assert not model[0]._forward_hooks


def test_new_param_groups_follow_warmup_and_cosine_schedules():
    student = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    wrapper = OptimWrapper(optimizer)
    schedulers = [LinearLR(wrapper, start_factor=0.1, by_epoch=False, begin=0, end=4),
                  CosineAnnealingLR(wrapper, T_max=6, by_epoch=False, begin=4, end=10)]
    adapter = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2))
    added = add_module_to_optimizer(wrapper, schedulers, adapter, dict(norm_decay_mult=0.0))
    assert added == 4
    decays = sorted(group['weight_decay'] for group in optimizer.param_groups[1:])
    assert decays == [0.0, 1e-4, 1e-4]  # norm params without decay; conv weight and bias with
    for _ in range(10):
        lrs = {group['lr'] for group in optimizer.param_groups}
        assert max(lrs) - min(lrs) < 1e-12, lrs
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()


def test_teacher_input_converter_renormalises():
    class Pre(nn.Module):
        def __init__(self, mean, std, swap):
            super().__init__()
            self._enable_normalize = mean is not None
            if mean is not None:
                self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1))
                self.register_buffer('std', torch.tensor(std).view(3, 1, 1))
            self._channel_conversion = swap

    raw_bgr = torch.rand(1, 3, 2, 2) * 255
    student_in = raw_bgr  # YOLOX: no normalisation, BGR
    teacher_pre = Pre([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], True)  # RGB normalised
    converted = TeacherInputConverter(Pre(None, None, False), teacher_pre)(student_in)
    expected = (raw_bgr.flip(1) - teacher_pre.mean) / teacher_pre.std
    assert torch.allclose(converted, expected)
    same = TeacherInputConverter(Pre(None, None, False), Pre(None, None, False))
    assert same.identity and same(student_in) is student_in


def test_padded_ground_truth():
    samples = [gt_sample(boxes, labels=torch.arange(len(boxes))) for boxes in ([[0, 0, 4, 4], [1, 1, 2, 2]], [])]
    gt = pad_ground_truth(samples, torch.device('cpu'))
    assert gt.bboxes.shape == (2, 2, 4)
    assert gt.valid.tolist() == [[True, True], [False, False]]
    assert gt.labels.tolist() == [[0, 1], [-1, -1]]
