"""Tests of mmkd.losses.feature: hand-computed values, slow loop references, gradients, edges."""
import math
from typing import List, Sequence

import pytest
import torch
import torch.nn.functional as F
from test_masks import BOX, loop_gt_box_mask, loop_scale_mask, random_boxes
from torch import Tensor
from utils import distill_context

from mmkd.losses.feature import (
    AttentionGuidedLoss,
    CWDLoss,
    FGDLoss,
    GlobalContextBlock,
    MaskedFeatureLoss,
    NonLocalBlock,
    NonLocalDistillLoss,
    PKDLoss,
)
from mmkd.masks import GIDMask
from mmkd.registry import MODELS

STRIDES = [8, 16]


def pair(batch: int = 2, channels: int = 4, size: int = 32, strides: Sequence[int] = STRIDES, seed: int = 0):
    torch.manual_seed(seed)
    student = [torch.randn(batch, channels, size // s, size // s, requires_grad=True) for s in strides]
    teacher = [torch.randn(batch, channels, size // s, size // s) for s in strides]
    return student, teacher


def sizes_of(levels: Sequence[Tensor]) -> List[tuple]:
    return [tuple(level.shape[-2:]) for level in levels]


# ----------------------------------------------------------------------------- references
def loop_masked_loss(student, teacher, masks, normalize: str) -> Tensor:
    total = 0.0
    for s, t, m in zip(student, teacher, masks):
        level, weight = 0.0, 0.0
        for b in range(s.shape[0]):
            for i in range(s.shape[2]):
                for j in range(s.shape[3]):
                    level += m[b, 0, i, j] * ((s[b, :, i, j] - t[b, :, i, j]) ** 2).sum()
                    weight += m[b, 0, i, j]
        if normalize == 'mask':
            level = level / max(2 * float(weight), 1.0)
        elif normalize == 'batch':
            level = level / s.shape[0]
        total += level
    return total


def loop_cwd(student, teacher, tau: float) -> Tensor:
    total = 0.0
    for s, t in zip(student, teacher):
        batch, channels = s.shape[:2]
        for b in range(batch):
            for c in range(channels):
                p_t = torch.softmax(t[b, c].flatten() / tau, 0)
                p_s = torch.softmax(s[b, c].flatten() / tau, 0)
                total += tau ** 2 * (p_t * (p_t.log() - p_s.log())).sum() / (batch * channels)
    return total


def loop_pkd(student, teacher) -> Tensor:
    total = 0.0
    for s, t in zip(student, teacher):
        batch, channels = s.shape[:2]
        for b in range(batch):
            for c in range(channels):
                r = torch.corrcoef(torch.stack([s[b, c].flatten(), t[b, c].flatten()]))[0, 1]
                total += (1 - r) / (batch * channels)
    return total


def softmax_attention(x: Tensor, tau: float) -> tuple:
    """Spatial ``(H, W)`` and channel ``(C,)`` attention of one image ``(C, H, W)``."""
    c, h, w = x.shape
    spatial = h * w * torch.softmax(x.abs().mean(0).flatten() / tau, 0).view(h, w)
    channel = c * torch.softmax(x.abs().mean((1, 2)) / tau, 0)
    return spatial, channel


def loop_fgd(loss: FGDLoss, student, teacher, ctx, alpha, beta, gamma, lam, tau) -> Tensor:
    fg_masks = loop_gt_box_mask(ctx, sizes_of(teacher))
    scale = loop_scale_mask(ctx, sizes_of(teacher), 1.0, 1.0)
    total = 0.0
    for level, (s, t) in enumerate(zip(student, teacher)):
        batch = s.shape[0]
        for b in range(batch):
            a_s, a_c = softmax_attention(t[b], tau)
            s_s, s_c = softmax_attention(s[b], tau)
            fg = fg_masks[level][b, 0]
            weight = scale[level][b, 0] * a_s
            sq = ((s[b] - t[b]) ** 2) * a_c[:, None, None]
            total += (alpha * (sq * weight * fg).sum() + beta * (sq * weight * (1 - fg)).sum()) / batch
            total += gamma * ((a_s - s_s).abs().sum() + (a_c - s_c).abs().sum()) / batch
        if lam > 0:
            relation_t = loss.teacher_context[level](t)
            relation_s = loss.student_context[level](s)
            total += lam * ((relation_t - relation_s) ** 2).sum() / batch
    return total


def loop_attention_guided(student, teacher, alpha, beta, tau) -> Tensor:
    total = 0.0
    for s, t in zip(student, teacher):
        batch = s.shape[0]
        for b in range(batch):
            c, h, w = s[b].shape
            g_s = s[b].abs().mean(0), t[b].abs().mean(0)
            g_c = s[b].abs().mean((1, 2)), t[b].abs().mean((1, 2))
            m_s = h * w * torch.softmax((g_s[0] + g_s[1]).flatten() / tau, 0).view(h, w)
            m_c = c * torch.softmax((g_c[0] + g_c[1]) / tau, 0)
            transfer = torch.linalg.norm(g_s[0] - g_s[1]) + torch.linalg.norm(g_c[0] - g_c[1])
            masked = torch.sqrt((((t[b] - s[b]) ** 2) * m_s.detach() * m_c.detach()[:, None, None]).sum())
            total += (alpha * transfer + beta * masked) / batch
    return total


# ----------------------------------------------------------------------------- hand-computed
@pytest.mark.parametrize('normalize, channels, expected', [
    ('mask', 1, 0.5), ('mask', 3, 1.5), ('batch', 1, 2.0), ('none', 3, 6.0)])
def test_masked_loss_by_hand(normalize, channels, expected):
    # 1 x C x 4 x 4 features, one box on 2 cells, S - T = 1 everywhere.
    ctx = distill_context([[BOX]])
    student = [torch.ones(1, channels, 4, 4)]
    teacher = [torch.zeros(1, channels, 4, 4)]
    loss = MaskedFeatureLoss(dict(type='mmkd.GTBoxMask'), normalize=normalize, loss_weight=2.0)
    assert loss(student, teacher, ctx).item() == pytest.approx(2.0 * expected)


def test_cwd_by_hand():
    # One channel over two locations: p_T = (3/4, 1/4), p_S = (1/2, 1/2).
    student = [torch.zeros(1, 1, 1, 2)]
    teacher = [torch.tensor([math.log(3.0), 0.0]).view(1, 1, 1, 2)]
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert CWDLoss(tau=1.0)(student, teacher, distill_context([[]], 2)).item() == pytest.approx(expected, rel=1e-5)
    # tau^2 times the KL of the softened distributions
    p_t = torch.softmax(teacher[0].flatten() / 2, 0)
    expected = 4 * (p_t * (p_t / 0.5).log()).sum().item()
    assert CWDLoss(tau=2.0)(student, teacher, distill_context([[]], 2)).item() == pytest.approx(expected, rel=1e-5)


def test_pkd_equals_mse_of_standardised_features():
    student, teacher = pair()
    eps = 0.5  # large, so the closed form must handle it exactly

    def standardised(x):
        return (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + eps)

    expected = sum(((standardised(s) - standardised(t)) ** 2).mean() / 2 for s, t in zip(student, teacher))
    value = PKDLoss(eps=eps)(student, teacher, distill_context([[], []])).item()
    assert value == pytest.approx(expected.item(), rel=1e-5)


def test_pkd_by_hand():
    teacher = [torch.randn(2, 3, 4, 4)]
    ctx = distill_context([[], []])
    assert PKDLoss()([2 * teacher[0] + 3], teacher, ctx).item() == pytest.approx(0.0, abs=1e-5)
    assert PKDLoss()([-teacher[0]], teacher, ctx).item() == pytest.approx(2.0, abs=1e-5)


def test_fgd_by_hand():
    # Constant teacher: uniform attention (1 everywhere); S - T = 1; student attention uniform too.
    ctx = distill_context([[BOX]])
    teacher = [torch.full((1, 2, 4, 4), 2.0)]
    student = [teacher[0] + 1]
    loss = FGDLoss([2], alpha_fg=0.3, beta_bg=0.05, gamma_at=1.0, lambda_global=0.0)
    # foreground: 2 cells x 1/2 x 2 channels x alpha; background: 14 cells x 1/14 x 2 channels x beta
    assert loss(student, teacher, ctx).item() == pytest.approx(2 * 0.3 + 2 * 0.05)


def test_attention_guided_by_hand():
    student, teacher = [torch.zeros(1, 1, 2, 2)], [torch.ones(1, 1, 2, 2)]
    # L_AT = ||(1, 1, 1, 1)|| + |1| = 3, masks are 1, L_AM = sqrt(4) = 2
    loss = AttentionGuidedLoss(alpha_at=0.1, beta_am=0.01)
    assert loss(student, teacher, distill_context([[]], 2)).item() == pytest.approx(0.1 * 3 + 0.01 * 2)


# ----------------------------------------------------------------------------- against loops
def test_masked_loss_matches_loop():
    student, teacher = pair()
    boxes = random_boxes(2, 5, 32, torch.Generator().manual_seed(0))
    ctx = distill_context([boxes[0], boxes[1]])
    masks = loop_gt_box_mask(ctx, sizes_of(teacher))
    for normalize in ('mask', 'batch', 'none'):
        loss = MaskedFeatureLoss(dict(type='mmkd.GTBoxMask'), normalize=normalize)
        expected = loop_masked_loss(student, teacher, masks, normalize)
        assert loss(student, teacher, ctx).item() == pytest.approx(float(expected), rel=1e-5)


def test_cwd_and_pkd_match_loops():
    student, teacher = pair()
    ctx = distill_context([[], []])
    for tau in (1.0, 4.0):
        assert CWDLoss(tau=tau)(student, teacher, ctx).item() == pytest.approx(
            float(loop_cwd(student, teacher, tau)), rel=1e-5)
    assert PKDLoss(eps=0.0)(student, teacher, ctx).item() == pytest.approx(
        float(loop_pkd(student, teacher)), rel=1e-5)


@pytest.mark.parametrize('lam', [0.0, 1e-2])
def test_fgd_matches_loop(lam):
    student, teacher = pair(channels=6)
    boxes = random_boxes(2, 6, 32, torch.Generator().manual_seed(1))
    ctx = distill_context([boxes[0], []])
    loss = FGDLoss([6, 6], alpha_fg=2e-1, beta_bg=1e-1, gamma_at=1e-1, lambda_global=lam, temperature=0.5)
    if lam:
        for block in [*loss.student_context, *loss.teacher_context]:
            torch.nn.init.normal_(block.transform[-1].weight, std=0.1)  # not the identity
    expected = loop_fgd(loss, student, teacher, ctx, 2e-1, 1e-1, 1e-1, lam, 0.5)
    assert loss(student, teacher, ctx).item() == pytest.approx(float(expected), rel=1e-5)


def test_attention_guided_matches_loop():
    student, teacher = pair(channels=5)
    ctx = distill_context([[], []])
    loss = AttentionGuidedLoss(alpha_at=0.3, beta_am=0.7, temperature=0.5)
    expected = loop_attention_guided(student, teacher, 0.3, 0.7, 0.5)
    assert loss(student, teacher, ctx).item() == pytest.approx(float(expected), rel=1e-5)


def test_global_context_block_matches_mmcv_context_block():
    from mmcv.cnn import ContextBlock
    torch.manual_seed(0)
    ours, reference = GlobalContextBlock(6), ContextBlock(6, ratio=0.5)
    torch.nn.init.normal_(ours.transform[-1].weight)
    reference.conv_mask.load_state_dict(ours.key.state_dict())
    reference.channel_add_conv.load_state_dict(ours.transform.state_dict())
    x = torch.randn(2, 6, 5, 7)
    assert torch.allclose(ours(x), reference(x), atol=1e-5)
    assert torch.equal(GlobalContextBlock(6)(x), x)  # zero-initialised: the identity


def test_non_local_block_matches_formula():
    torch.manual_seed(0)
    block = NonLocalBlock(4)
    torch.nn.init.normal_(block.out.weight)
    x = torch.randn(2, 4, 3, 5)
    theta, phi, g = (conv(x).flatten(2) for conv in (block.theta, block.phi, block.g))  # (B, d, N)
    attention = torch.softmax(theta.transpose(1, 2) @ phi / math.sqrt(2), dim=-1)    # (B, N, N)
    expected = x + block.out((g @ attention.transpose(1, 2)).view(2, 2, 3, 5))
    assert torch.allclose(block(x), expected, atol=1e-5)
    zero_init = NonLocalBlock(4)
    assert torch.equal(zero_init(x), x)


def test_non_local_block_sub_samples_keys_and_values():
    torch.manual_seed(0)
    block = NonLocalBlock(4, sub_sample=True)
    torch.nn.init.normal_(block.out.weight)
    x = torch.randn(1, 4, 4, 6)
    theta = block.theta(x).flatten(2)
    phi, g = (F.max_pool2d(conv(x), 2).flatten(2) for conv in (block.phi, block.g))  # 6 keys
    attention = torch.softmax(theta.transpose(1, 2) @ phi / math.sqrt(2), dim=-1)
    expected = x + block.out((g @ attention.transpose(1, 2)).view(1, 2, 4, 6))
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_non_local_loss_matches_formula():
    student, teacher = pair(channels=4)
    loss = NonLocalDistillLoss([4, 4], gamma=0.5)
    for block in [*loss.student_blocks, *loss.teacher_blocks]:
        torch.nn.init.normal_(block.out.weight, std=0.1)
    expected = sum(0.5 * torch.stack([torch.linalg.norm(bs(s)[b] - bt(t)[b]) for b in range(2)]).mean()
                   for s, t, bs, bt in zip(student, teacher, loss.student_blocks, loss.teacher_blocks))
    assert loss(student, teacher, distill_context([[], []])).item() == pytest.approx(expected.item(), rel=1e-5)


# ----------------------------------------------------------------------------- gradients, edges
def all_losses(channels: int = 4) -> list:
    return [
        MaskedFeatureLoss(dict(type='mmkd.PriorInBoxMask')),
        MaskedFeatureLoss(dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0), normalize='none'),
        CWDLoss(tau=2.0), PKDLoss(), FGDLoss([channels] * 2), AttentionGuidedLoss(),
        NonLocalDistillLoss([channels] * 2)]


@pytest.mark.parametrize('loss', all_losses(), ids=lambda loss: type(loss).__name__)
def test_gradients_reach_the_student_only(loss):
    student, teacher = pair()
    teacher = [t.requires_grad_() for t in teacher]
    ctx = distill_context([[BOX, [0, 0, 30, 12]], []])
    value = loss(student, teacher, ctx)
    value.backward()
    assert torch.isfinite(value)
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in student)
    assert all(t.grad is None for t in teacher)


@pytest.mark.parametrize('loss', all_losses(), ids=lambda loss: type(loss).__name__)
def test_no_ground_truth_is_finite(loss):
    student, teacher = pair()
    value = loss(student, teacher, distill_context([[], []]))
    value.backward()
    assert torch.isfinite(value) and all(torch.isfinite(s.grad).all() for s in student)


@pytest.mark.parametrize('loss', all_losses(), ids=lambda loss: type(loss).__name__)
def test_student_of_another_size_is_resized_to_the_teacher(loss):
    student, teacher = pair(size=64)
    teacher = [F.avg_pool2d(t, 2) for t in teacher]
    ctx = distill_context([[BOX], []])
    resized = [F.interpolate(s, size=t.shape[-2:], mode='bilinear', align_corners=False)
               for s, t in zip(student, teacher)]
    assert loss(student, teacher, ctx).item() == pytest.approx(loss(resized, teacher, ctx).item(), rel=1e-6)


def test_mismatched_levels_or_channels_raise():
    student, teacher = pair()
    ctx = distill_context([[], []])
    with pytest.raises(ValueError, match='levels'):
        CWDLoss()(student[:1], teacher, ctx)
    with pytest.raises(ValueError, match='channels'):
        PKDLoss()([s[:, :2] for s in student], teacher, ctx)
    with pytest.raises(ValueError, match='in_channels'):
        FGDLoss([8, 8])(student, teacher, ctx)


def test_masked_loss_without_ground_truth_is_zero():
    student, teacher = pair()
    loss = MaskedFeatureLoss(dict(type='mmkd.GTBoxMask'))
    assert loss(student, teacher, distill_context([[], []])).item() == 0.0


def test_learnable_parts_train_and_build_from_registry():
    loss = MODELS.build(dict(type='mmkd.FGDLoss', in_channels=[4, 4]))
    assert sum(p.numel() for p in loss.parameters()) > 0
    student, teacher = pair()
    loss(student, teacher, distill_context([[BOX], []])).backward()
    last = loss.teacher_context[0].transform[-1].weight
    assert last.grad is not None and last.grad.abs().sum() > 0
    assert not list(MODELS.build(dict(type='mmkd.FGDLoss', in_channels=[4], lambda_global=0)).parameters())


def test_required_records_come_from_the_mask():
    assert MaskedFeatureLoss(GIDMask()).required_records == ('bbox_head',)
    masked = MODELS.build(dict(type='mmkd.MaskedFeatureLoss', mask=dict(
        type='mmkd.ProductMask', masks=[dict(type='mmkd.DiscrepancyMask'), dict(type='mmkd.GTBoxMask')])))
    assert masked.required_records == ('bbox_head',)
    assert MaskedFeatureLoss(dict(type='mmkd.GTBoxMask')).required_records == ()


# ----------------------------------------------------------------------------- short training run
TEACHER_CHANNELS = [64, 64, 64]  # neck of tests/configs/yolox_tiny_teacher_synth.py
RUN_LOSSES = {
    'fgfi': dict(type='mmkd.MaskedFeatureLoss', mask=dict(type='mmkd.PriorInBoxMask', center_radius=2.5)),
    'defeat': dict(type='mmkd.MaskedFeatureLoss', normalize='none',
                   mask=dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0)),
    'gid': dict(type='mmkd.MaskedFeatureLoss', mask=dict(type='mmkd.GIDMask')),
    'fgd': dict(type='mmkd.FGDLoss', in_channels=TEACHER_CHANNELS),
    'cwd': dict(type='mmkd.CWDLoss', loss_weight=10.0),
    'pkd': dict(type='mmkd.PKDLoss', loss_weight=6.0),
    'attention': dict(type='mmkd.AttentionGuidedLoss'),
    'nonlocal': dict(type='mmkd.NonLocalDistillLoss', in_channels=TEACHER_CHANNELS, sub_sample=True),
}


@pytest.fixture(scope='module')
def feature_run(tmp_path_factory, synth_root, teacher_checkpoint):
    """One epoch of the tiny YOLOX pair with every feature loss on the neck at once."""
    from utils import distill_hook_cfg, load_config, train
    work_dir = tmp_path_factory.mktemp('feature_kd')
    cfg = load_config('yolox_tiny_distill_synth.py', work_dir, synth_root,
                      train_cfg=dict(max_epochs=1, val_interval=5))
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook['distill'] = [dict(name=name, student='neck', teacher='neck', loss=loss)
                       for name, loss in RUN_LOSSES.items()]
    return train(cfg), work_dir


def test_feature_losses_train_in_a_short_run(feature_run):
    runner, work_dir = feature_run
    for name in RUN_LOSSES:
        values = torch.tensor(runner.message_hub.get_scalar(f'train/loss_{name}').data[0])
        assert len(values) > 0 and torch.isfinite(values).all(), name
    saved = torch.load(str(work_dir / 'epoch_1.pth'), map_location='cpu')['mmkd']['distiller']
    assert any(key.startswith('losses.fgd.student_context') for key in saved)
    assert any(key.startswith('losses.nonlocal.teacher_blocks') for key in saved)
