"""Unit tests of the schemes' parts on hand-computed cases."""
import math

import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from torch import nn
from utils import distill_context

from mmkd.losses.adversarial import gan_loss
from mmkd.losses.relation import normalised_distances, pairwise_distances, roi_levels
from mmkd.schemes import (
    AdversarialLoss,
    ConfidenceTeacherWeights,
    EXP3TeacherSelector,
    FeatureDiscriminator,
    FixedTeacherWeights,
    InstanceRelationLoss,
    LearnedTeacherWeights,
    MeanTeacherDistillationHook,
    PixelRelationLoss,
    SimilarityPreservingLoss,
    SnapshotModel,
    UCBTeacherSelector,
    improvement_reward,
)
from mmkd.teachers.ensemble import _shapes, _weighted_sum
from mmkd.teachers.peer import _peer_key
from mmkd.utils.modules import batch_statistics, detach_tensors, eval_mode


# ----------------------------------------------------------------- relation
def test_pairwise_distances_match_cdist_and_have_finite_gradients():
    points = torch.tensor([[[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]]], requires_grad=True)
    distances = pairwise_distances(points)
    assert torch.allclose(distances, torch.cdist(points, points), atol=1e-5)
    distances.sum().backward()
    assert torch.isfinite(points.grad).all()


def test_normalised_distances_hand_computed():
    points = torch.tensor([[[0.0], [1.0], [3.0], [100.0]]])  # the last one is padding
    psi, pairs = normalised_distances(points, torch.tensor([[True, True, True, False]]))
    # distances 1, 3, 2 -> mean 2
    assert torch.allclose(psi[0, 0, 1], torch.tensor(0.5), atol=1e-5)
    assert torch.allclose(psi[0, 0, 2], torch.tensor(1.5), atol=1e-5)
    assert torch.allclose(psi[0, 1, 2], torch.tensor(1.0), atol=1e-5)
    assert pairs.sum() == 6 and not pairs[0, 3].any() and not pairs[0].diagonal().any()


def test_roi_levels_follow_mmdet_rule():
    boxes = torch.tensor([[0, 0, 20, 20], [0, 0, 56, 56], [0, 0, 112, 112], [0, 0, 1000, 1000]], dtype=torch.float)
    assert roi_levels(boxes, 3, 56.0).tolist() == [0, 0, 1, 2]


def test_instance_relation_is_scale_invariant_and_ignores_lonely_instances():
    ctx = distill_context([[[0, 0, 20, 20], [30, 30, 60, 60], [5, 40, 25, 60]], [[10, 10, 40, 40]]], 64)
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]
    loss = InstanceRelationLoss(roi_size=3)
    assert loss([2 * f for f in feats], feats, ctx).item() == pytest.approx(0.0, abs=1e-5)
    other = [torch.randn_like(f, requires_grad=True) for f in feats]
    value = loss(other, feats, ctx)
    value.backward()
    assert value.item() > 0 and all(torch.isfinite(f.grad).all() for f in other)
    second_image_only = [f.clone() for f in other]
    for f, t in zip(second_image_only, feats):
        f.data[1] = t[1] * 5  # image 1 has one box: no pair, no effect with scope='image'
    assert loss(second_image_only, feats, ctx).item() == pytest.approx(value.item(), rel=1e-5)
    no_boxes = distill_context([[], []], 64)
    assert loss(other, feats, no_boxes).item() == 0.0


def test_pixel_relation_hand_computed():
    # cells (2 x 2 grid) carry e1, e2, e1, e2 in the student, e1 everywhere in the teacher
    student = torch.stack([torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]])])[None]
    teacher = torch.stack([torch.ones(2, 2), torch.zeros(2, 2)])[None]
    loss = PixelRelationLoss(grid=2)
    ctx = distill_context([[]], 64)
    assert loss([student], [teacher], ctx).item() == pytest.approx(0.5)  # 8 of 16 pairs differ by 1
    assert loss([3 * teacher], [teacher], ctx).item() == pytest.approx(0.0, abs=1e-6)


def test_similarity_preserving_hand_computed():
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(2, 2, 1, 1)
    teacher = torch.tensor([[1.0, 0.0], [1.0, 0.0]]).view(2, 2, 1, 1)
    # G_S = I; G_T rows (1, 1) / sqrt(2)
    expected = (2 * (1 - 1 / math.sqrt(2)) ** 2 + 2 * 0.5) / 4
    ctx = distill_context([[], []], 64)
    assert SimilarityPreservingLoss()([student], [teacher], ctx).item() == pytest.approx(expected)


# ------------------------------------------------------------------ bandits
def test_improvement_reward():
    assert improvement_reward(1.0, 1.0) == pytest.approx(0.5)
    assert improvement_reward(1.0, 0.99) == pytest.approx(1 / (1 + math.exp(-1)))
    assert improvement_reward(1.0, 2.0) < 1e-6


def test_exp3_update_hand_computed_and_state_round_trip():
    selector = EXP3TeacherSelector(2, gamma=0.1, seed=3)
    assert torch.allclose(selector.probabilities(), torch.full((2, ), 0.5, dtype=torch.float64))
    chosen = selector.select()
    assert chosen.sum() == 1
    selector.update(chosen, 1.0)
    assert selector.log_weights[chosen].item() == pytest.approx(0.1 * (1 / 0.5) / 2)
    state = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in selector.state_dict().items()}
    draws = [selector.select().nonzero().item() for _ in range(20)]
    restored = EXP3TeacherSelector(2, gamma=0.1, seed=99)
    restored.load_state_dict(state)
    assert [restored.select().nonzero().item() for _ in range(20)] == draws


def test_exp3_converges_to_the_rewarding_teacher():
    selector = EXP3TeacherSelector(3, gamma=0.1)
    for _ in range(300):
        chosen = selector.select()
        selector.update(chosen, 1.0 if chosen[2] else 0.0)
    assert selector.probabilities()[2] > 0.8


def test_ucb_tries_every_teacher_then_exploits():
    selector = UCBTeacherSelector(3, num_select=1, exploration=0.1)
    tried = []
    for _ in range(3):
        chosen = selector.select()
        tried.append(chosen.nonzero().item())
        selector.update(chosen, 0.9 if chosen[1] else 0.1)
    assert sorted(tried) == [0, 1, 2]
    assert selector.select().nonzero().item() == 1
    assert UCBTeacherSelector(3, num_select=2).select().sum() == 2
    with pytest.raises(ValueError, match='num_select'):
        UCBTeacherSelector(2, num_select=3)


# ----------------------------------------------------------------- weighting
def test_fixed_weights_renormalise_over_active_teachers():
    weighting = FixedTeacherWeights(2, weights=[3.0, 1.0])
    ctx = distill_context([[], [], []], 64)
    weights = weighting([None, None], [None, None], torch.tensor([True, True]), ctx)
    assert weights.shape == (2, 3) and torch.allclose(weights[:, 0], torch.tensor([0.75, 0.25]))
    only_second = weighting([None, None], [None, None], torch.tensor([False, True]), ctx)
    assert torch.equal(only_second, torch.tensor([[0.0] * 3, [1.0] * 3]))
    with pytest.raises(ValueError, match='non-negative'):
        FixedTeacherWeights(2, weights=[1.0, -1.0])


def test_learned_weights_move_towards_the_easier_teacher():
    weighting = LearnedTeacherWeights(2, entropy_weight=0.1)
    optimizer = torch.optim.SGD(weighting.parameters(), lr=1.0)
    for _ in range(20):
        weights = weighting([None, None], [None, None], torch.tensor([True, True]), distill_context([[]], 64))
        loss = weighting.extra_losses(weights, torch.tensor([1.0, 3.0]))['loss_teacher_weights']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    final = weighting.alpha.softmax(0)
    assert 0.5 < final[0] < 1.0  # favoured, yet the entropy term keeps the other


def test_confidence_weights_follow_the_teacher_that_knows_the_image():
    head = YOLOXHead(num_classes=2, in_channels=4, feat_channels=4, stacked_convs=1, strides=(8, ))
    ctx = distill_context([[[8, 8, 40, 40]], []], 64, labels=[[1], []])

    def outputs(true_class_logit: float):
        cls = torch.full((2, 2, 8, 8), -5.0)
        cls[:, 1] = true_class_logit
        return [cls], [torch.zeros(2, 4, 8, 8)], [torch.full((2, 1, 8, 8), 5.0)]

    records = [dict(bbox_head=outputs(5.0)), dict(bbox_head=outputs(-5.0))]
    weighting = ConfidenceTeacherWeights(2, temperature=0.1)
    teachers = [nn.Module(), nn.Module()]
    for teacher in teachers:
        teacher.bbox_head = head
    weights = weighting(records, teachers, torch.tensor([True, True]), ctx)
    assert weights[0, 0] > 0.99  # image 0: the first teacher scores the true class
    assert torch.allclose(weights[:, 1], torch.tensor([0.5, 0.5]))  # image 1 has no GT


def test_weighted_sum_through_nested_records_per_image():
    first = ([torch.ones(2, 1, 2, 2)], [torch.zeros(2, 1, 2, 2)])
    second = ([torch.zeros(2, 1, 2, 2)], [torch.ones(2, 1, 2, 2)])
    combined = _weighted_sum([first, second], torch.tensor([[1.0, 0.25], [0.0, 0.75]]))
    assert isinstance(combined, tuple) and isinstance(combined[0], list)
    assert torch.equal(combined[0][0][:, 0, 0, 0], torch.tensor([1.0, 0.25]))
    assert torch.equal(combined[1][0][:, 0, 0, 0], torch.tensor([0.0, 0.75]))
    assert _shapes(first) == ((2, 1, 2, 2), (2, 1, 2, 2))


# --------------------------------------------------------------- adversarial
def test_gan_losses():
    logits = torch.zeros(1, 1, 2, 2)
    assert gan_loss(logits, True, 'lsgan').item() == pytest.approx(1.0)
    assert gan_loss(logits, False, 'lsgan').item() == pytest.approx(0.0)
    assert gan_loss(logits, True, 'vanilla').item() == pytest.approx(math.log(2))


def test_adversarial_loss_trains_the_student_side_only():
    loss = AdversarialLoss(dict(type='mmkd.FeatureDiscriminator', in_channels=4, feat_channels=8))
    student, teacher = [torch.randn(2, 4, 4, 4, requires_grad=True)], [torch.randn(2, 4, 4, 4)]
    with pytest.raises(RuntimeError, match='AdversarialDistillationHook'):
        loss(student, teacher, distill_context([[], []], 64))
    loss.trained_by_hook = True
    loss(student, teacher, distill_context([[], []], 64)).backward()
    assert student[0].grad is not None
    assert all(p.grad is None and not p.requires_grad for p in loss.discriminator.parameters())
    loss.discriminator.requires_grad_(True)
    loss.discriminator_loss().backward()  # from the kept, detached features
    assert all(p.grad is not None for p in loss.discriminator.parameters())
    assert loss.discriminator_loss() is None  # consumed


def test_discriminator_checks_channels():
    with pytest.raises(ValueError, match='expects 4 channels'):
        FeatureDiscriminator(4)(torch.zeros(1, 8, 2, 2))


# ----------------------------------------------------------- self and utils
def test_snapshot_model_copies_every_interval():
    model = nn.Linear(1, 1, bias=False)
    snapshot = SnapshotModel(model, interval=2)
    values = []
    for step in range(5):
        model.weight.data.fill_(float(step))
        snapshot.update_parameters(model)
        values.append(snapshot.module.weight.item())
    assert values == [0.0, 0.0, 2.0, 2.0, 4.0]


def test_snapshot_hook_refuses_to_teach_before_the_first_snapshot():
    entries = [dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))]
    snapshot = dict(type='mmkd.SnapshotModel', interval=40)
    with pytest.raises(ValueError, match=r'schedule.start_iter=0: .*averaging.interval=40.*start_iter=40'):
        MeanTeacherDistillationHook(entries, averaging=snapshot)
    with pytest.raises(ValueError, match='start_iter=40'):  # unscoped, or the class itself
        MeanTeacherDistillationHook(entries, averaging=dict(snapshot, type='SnapshotModel'))
    with pytest.raises(ValueError, match='start_iter=40'):
        MeanTeacherDistillationHook(entries, averaging=dict(snapshot, type=SnapshotModel))
    later = MeanTeacherDistillationHook(entries, averaging=snapshot, schedule=dict(start_iter=80))
    assert later.schedule.start_iter == 80
    MeanTeacherDistillationHook(entries)  # a moving average teaches from the start


def test_batch_statistics_normalise_like_training_and_keep_the_running_ones():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)).eval()
    norm = model[1]
    norm.running_mean.fill_(5.0)  # statistics that trail the weights, as an early snapshot's
    x = torch.randn(4, 2, 6, 6) * 3
    stored = {key: value.clone() for key, value in norm.state_dict().items()}
    with batch_statistics(model):
        out = model(x)
    assert not norm.training and norm.track_running_stats  # modes restored
    assert all(torch.equal(value, norm.state_dict()[key]) for key, value in stored.items())  # nothing updated
    features = model[0](x)
    mean, var = features.mean(dim=(0, 2, 3), keepdim=True), features.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    assert torch.allclose(out, (features - mean) / torch.sqrt(var + norm.eps), atol=1e-5)  # weight 1, bias 0
    assert not torch.allclose(model(x), out, atol=1e-2)  # eval mode reads the stored statistics


def test_averaged_teacher_checks_bn_statistics():
    with pytest.raises(ValueError, match='bn_statistics must be "running" or "batch", got "train"'):
        MeanTeacherDistillationHook([], bn_statistics='train')


def test_detach_tensors_and_eval_mode():
    x = torch.ones(1, requires_grad=True)
    detached = detach_tensors(([x], {'a': x}, 3))
    assert not detached[0][0].requires_grad and not detached[1]['a'].requires_grad and detached[2] == 3
    module = nn.BatchNorm1d(1).train()
    with eval_mode(module):
        assert not module.training
    assert module.training


def test_peer_keys():
    assert _peer_key('loss_cls') == 'loss_peer_cls' and _peer_key('acc') == 'peer_acc'


def test_adversarial_discriminator_takes_its_width_from_the_probe():
    loss = AdversarialLoss(dict(type='mmkd.FeatureDiscriminator', feat_channels=8))
    assert loss.discriminator is None
    loss.build_for_levels([6, 6])
    assert loss.discriminator.in_channels == 6
    assert not any(p.requires_grad for p in loss.discriminator.parameters())
    with pytest.raises(ValueError, match=r'one discriminator for all levels .* \[4, 8\] channels'):
        AdversarialLoss().build_for_levels([4, 8])
    with pytest.raises(ValueError, match=r'in_channels=\[4\] but the teacher levels have \[6\]'):
        AdversarialLoss(dict(type='mmkd.FeatureDiscriminator', in_channels=4)).build_for_levels([6])
