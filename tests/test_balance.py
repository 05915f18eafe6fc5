"""Automatic loss balance: measured scales, the hook, checkpoints, resume and DDP."""
from pathlib import Path

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.runner import Runner
from utils import distill_hook_cfg, find_distill_hook, load, load_config

from mmkd.engine import balance as balance_module
from mmkd.engine.balance import LossBalance


def terms(**values: float) -> dict:
    return {key: torch.tensor(value) for key, value in values.items()}


def measure(balance: LossBalance, steps) -> list:
    return [balance(terms(**losses), torch.tensor(detection)) for losses, detection in steps]


# two iterations: detection 1 and 3; loss_a 2 and 4; loss_b 0.5 and 1.5
STEPS = [(dict(loss_a=2.0, loss_b=0.5), 1.0), (dict(loss_a=4.0, loss_b=1.5), 3.0)]


def test_terms_are_zero_while_measuring_then_scaled_to_the_ratio():
    balance = LossBalance(target_ratio=0.5, iters=2)
    measured = measure(balance, STEPS)
    assert all(float(value) == 0.0 for losses in measured for value in losses.values())
    # scale = 0.5 * (1 + 3) / sum(term): loss_a 2 / 6, loss_b 2 / 2
    assert balance.scales == pytest.approx(dict(loss_a=1 / 3, loss_b=1.0))
    scaled = balance(terms(loss_a=3.0, loss_b=2.0), torch.tensor(100.0))
    assert {key: float(value) for key, value in scaled.items()} == pytest.approx(dict(loss_a=1.0, loss_b=2.0))
    assert balance.measured == 2  # nothing is measured once fixed


def test_a_term_named_in_ratios_gets_its_own_ratio():
    balance = LossBalance(target_ratio=0.5, iters=2, ratios=dict(loss_b=2.0))
    measure(balance, STEPS)
    # loss_a: 0.5 * 4 / 6; loss_b: 2.0 * 4 / 2
    assert balance.scales == pytest.approx(dict(loss_a=1 / 3, loss_b=4.0))
    with pytest.raises(ValueError, match='ratios.loss_b'):
        LossBalance(target_ratio=0.5, iters=2, ratios=dict(loss_b=0.0))
    with pytest.raises(KeyError, match="balance.ratios names \\['loss_c'\\]"):
        measure(LossBalance(target_ratio=0.5, iters=2, ratios=dict(loss_c=1.0)), STEPS)


def test_gradient_flows_through_the_scaled_term_only_after_the_fix():
    balance = LossBalance(target_ratio=1.0, iters=1)
    term = torch.tensor(4.0, requires_grad=True)
    balance(dict(loss_a=term), torch.tensor(2.0))['loss_a'].backward()
    assert float(term.grad) == 0.0
    term.grad = None
    balance(dict(loss_a=term), torch.tensor(2.0))['loss_a'].backward()
    assert float(term.grad) == pytest.approx(0.5)


def test_state_dict_resumes_a_measurement_in_progress():
    whole = LossBalance(target_ratio=0.5, iters=2)
    measure(whole, STEPS)
    first = LossBalance(target_ratio=0.5, iters=2)
    measure(first, STEPS[:1])
    resumed = LossBalance(target_ratio=0.5, iters=2)
    resumed.load_state_dict(first.state_dict())
    measure(resumed, STEPS[1:])
    assert resumed.scales == whole.scales


def test_bad_arguments_and_unmeasured_terms_are_errors():
    with pytest.raises(ValueError, match='target_ratio'):
        LossBalance(target_ratio=0.0, iters=2)
    with pytest.raises(ValueError, match='iters'):
        LossBalance(target_ratio=1.0, iters=0)
    balance = LossBalance(target_ratio=1.0, iters=1)
    measure(balance, [(dict(loss_a=1.0), 1.0)])
    with pytest.raises(KeyError, match='loss_new'):
        balance(terms(loss_a=1.0, loss_new=1.0), torch.tensor(1.0))
    with pytest.raises(ValueError, match='loss_a'):
        measure(LossBalance(target_ratio=1.0, iters=1), [(dict(loss_a=0.0), 1.0)])


def test_sums_are_all_reduced_before_the_fix(monkeypatch):
    """A second rank measured detection 6 and loss_a 2 over its two iterations."""
    def all_reduce_with_other_rank(data, op='sum'):
        assert op == 'sum'
        data += torch.tensor([6.0, 2.0, 2.0], dtype=data.dtype)  # detection, loss_a, count

    monkeypatch.setattr(balance_module, 'all_reduce', all_reduce_with_other_rank)
    balance = LossBalance(target_ratio=0.5, iters=2)
    measure(balance, [(dict(loss_a=2.0), 1.0), (dict(loss_a=4.0), 3.0)])
    assert balance.scales == pytest.approx(dict(loss_a=0.5 * (4.0 + 6.0) / (6.0 + 2.0)))
    assert balance.state_dict()['detection_sum'] == 4.0  # this rank's own sums stay unreduced


def _rank_fixes(rank: int, init_file: str, results) -> None:
    torch_dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    balance = LossBalance(target_ratio=1.0, iters=1)
    balance(dict(loss_a=torch.tensor(1.0 + rank)), torch.tensor(2.0 + 4 * rank))
    results[rank] = balance.scales['loss_a']
    torch_dist.destroy_process_group()


def test_two_gloo_ranks_fix_the_same_scale(tmp_path):
    results = mp.Manager().dict()
    mp.spawn(_rank_fixes, args=(str(tmp_path / 'init'), results), nprocs=2)
    # (2 + 6) / (1 + 2) on both ranks
    assert dict(results) == pytest.approx({0: 8 / 3, 1: 8 / 3})


class _Spy:
    """Records what LossBalance measures: (detached terms, detection loss) per call."""

    def __init__(self, monkeypatch) -> None:
        self.observed = []
        original = LossBalance._observe

        def observe(balance, losses, detection_loss):
            self.observed.append(({key: float(value) for key, value in losses.items()}, float(detection_loss)))
            original(balance, losses, detection_loss)

        monkeypatch.setattr(LossBalance, '_observe', observe)


def _balanced_cfg(work_dir, synth_root, teacher_checkpoint, **options):
    cfg = load_config('yolox_tiny_distill_synth.py', work_dir, synth_root, **options)
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook['balance'] = dict(target_ratio=0.5, iters=3)
    return cfg


def test_hook_fixes_saves_and_resumes_without_measuring(tmp_path, synth_root, teacher_checkpoint, monkeypatch):
    spy = _Spy(monkeypatch)
    cfg = _balanced_cfg(tmp_path, synth_root, teacher_checkpoint, train_cfg=dict(max_epochs=1, val_interval=5))
    runner = Runner.from_cfg(cfg)
    runner.train()
    balance = find_distill_hook(runner).balance
    assert len(spy.observed) == 3 and runner.iter == 6
    detection = sum(detection for _, detection in spy.observed)
    expected = {key: 0.5 * detection / sum(losses[key] for losses, _ in spy.observed)
                for key in ('loss_neck_mse', 'loss_cls_kd')}
    assert balance.scales == pytest.approx(expected, rel=1e-6)
    assert load(tmp_path / 'epoch_1.pth')['mmkd']['balance']['scales'] == balance.scales
    assert 'mmkd balance: over 3 iterations' in Path(runner.log_dir, f'{runner.timestamp}.log').read_text()

    spy.observed.clear()
    resumed_cfg = _balanced_cfg(tmp_path, synth_root, teacher_checkpoint, resume=True,
                                load_from=str(tmp_path / 'epoch_1.pth'),
                                train_cfg=dict(max_epochs=2, val_interval=5))
    resumed = Runner.from_cfg(resumed_cfg)
    resumed.train()
    assert resumed.iter == 12 and spy.observed == []
    assert find_distill_hook(resumed).balance.scales == balance.scales
