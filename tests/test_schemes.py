"""Distillation schemes end to end on the tiny YOLOX pair: what trains, what is
frozen, what is saved, resumed and exported."""
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Type

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from utils import CONFIGS, REPO, load, load_config, train, untrained_checkpoint

from mmkd.engine.teacher import build_detector, load_detector_config
from mmkd.hooks import DistillationHook
from mmkd.schemes import (
    AdversarialDistillationHook,
    MeanTeacherDistillationHook,
    MultiTeacherDistillationHook,
    OnlineDistillationHook,
    SelfDistillationHook,
    export_peer_checkpoint,
)

TEACHER_CONFIG = str(CONFIGS / 'yolox_tiny_teacher_synth.py')
STUDENT_CONFIG = str(CONFIGS / 'yolox_tiny_synth.py')
NECK_MSE = dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))
CLS_KD = dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
              loss=dict(type='mmkd.KDLoss', temperature=2.0))


def scheme_cfg(work_dir: Path, synth_root: str, hook: dict, epochs: int = 2, **options: Any) -> Config:
    """The tiny student with its YOLOX recipe hooks plus one scheme hook."""
    cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root,
                      train_cfg=dict(max_epochs=epochs, val_interval=epochs), **options)
    cfg.custom_hooks = [*cfg.custom_hooks, hook]
    return cfg


def find_hook(runner: Runner, kind: Type[Hook]) -> Any:
    return next(hook for hook in runner.hooks if isinstance(hook, kind))


def trained_state(runner: Runner, module: torch.nn.Module) -> dict:
    """Optimizer state of ``module``'s parameters in the student's optimizer."""
    state = runner.optim_wrapper.optimizer.state
    return {id(p): state[p] for p in module.parameters() if p in state}


def assert_same(saved: Any, restored: Any, where: str = 'mmkd') -> None:
    """Nested checkpoint states hold equal tensors and values."""
    if isinstance(saved, dict):
        assert saved.keys() == restored.keys(), where
        for key in saved:
            assert_same(saved[key], restored[key], f'{where}.{key}')
    elif isinstance(saved, torch.Tensor):
        assert torch.equal(saved.cpu(), restored.cpu()), where
    elif isinstance(saved, (list, tuple)):
        assert len(saved) == len(restored), where
        for index, (a, b) in enumerate(zip(saved, restored)):
            assert_same(a, b, f'{where}[{index}]')
    else:
        assert saved == restored, where


class _StateAtStart(Hook):
    """The scheme's checkpoint state when training starts (after a resume)."""
    priority = 'LOWEST'

    def __init__(self, kind: Type[DistillationHook]) -> None:
        self.kind = kind

    def before_train(self, runner) -> None:
        self.state = copy.deepcopy(find_hook(runner, self.kind).checkpoint_state())


def resume_and_check(cfg: Config, checkpoint: Path, kind: Type[DistillationHook]) -> Runner:
    """Resume ``cfg`` from ``checkpoint``: the scheme's state comes back exactly."""
    cfg.merge_from_dict(dict(resume=True, load_from=str(checkpoint)))
    runner = Runner.from_cfg(cfg)
    start = _StateAtStart(kind)
    runner.register_hook(start)
    runner.train()
    assert_same(load(checkpoint)['mmkd'], start.state)
    return runner


def assert_plain_student_checkpoint(path: Path) -> dict:
    checkpoint = load(path)
    plain = build_detector(load_detector_config(STUDENT_CONFIG, 'config'))
    result = plain.load_state_dict(checkpoint['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return checkpoint


# ------------------------------------------------------------------ online
def online_hook(**changes: Any) -> dict:
    return dict(type='mmkd.OnlineDistillationHook', peer=dict(config=TEACHER_CONFIG),
                distill=[NECK_MSE, CLS_KD], **changes)


@pytest.fixture(scope='module')
def online(tmp_path_factory, synth_root):
    work_dir = tmp_path_factory.mktemp('online')
    return train(scheme_cfg(work_dir, synth_root, online_hook())), work_dir


def test_online_both_models_train_in_one_optimizer(online):
    runner, work_dir = online
    hook = find_hook(runner, OnlineDistillationHook)
    peer = hook.source.model
    assert peer.training and all(p.requires_grad for p in peer.parameters())
    assert len(trained_state(runner, peer)) == len(list(peer.parameters()))  # the peer has momentum: it stepped
    assert trained_state(runner, hook.source.peer_distiller)  # peer -> student adapters (wide peer: none the other way)
    first, last = load(work_dir / 'epoch_1.pth'), load(work_dir / 'epoch_2.pth')
    changed = [k for k in first['mmkd']['peer'] if not torch.equal(first['mmkd']['peer'][k], last['mmkd']['peer'][k])]
    assert changed and any(not torch.equal(first['state_dict'][k], last['state_dict'][k]) for k in first['state_dict'])


def test_online_logs_both_directions_and_the_peers_own_losses(online):
    runner, _ = online
    for key in ('loss_neck_mse', 'loss_cls_kd', 'loss_peer_neck_mse', 'loss_peer_cls_kd', 'loss_peer_cls',
                'loss_peer_bbox', 'loss_peer_obj', 'loss_cls'):
        values = runner.message_hub.get_scalar(f'train/{key}').data[0]
        assert len(values) == runner.iter and all(torch.isfinite(torch.tensor(values))), key
    assert runner.message_hub.get_scalar('val/peer/coco/bbox_mAP') is not None  # the peer was evaluated


def test_online_student_checkpoint_is_plain_and_peer_exports(online, tmp_path):
    _, work_dir = online
    checkpoint = assert_plain_student_checkpoint(work_dir / 'epoch_2.pth')
    assert set(checkpoint['mmkd']) == {'distiller', 'teacher', 'peer', 'peer_distiller'}
    exported = export_peer_checkpoint(str(work_dir / 'epoch_2.pth'), str(tmp_path / 'peer.pth'))
    peer = build_detector(load_detector_config(TEACHER_CONFIG, 'config'))
    assert not peer.load_state_dict(load(Path(exported))['state_dict'], strict=True).missing_keys


def test_online_resume_restores_peer_and_its_optimizer_groups(online, tmp_path, synth_root):
    _, work_dir = online
    runner = resume_and_check(scheme_cfg(tmp_path, synth_root, online_hook()), work_dir / 'epoch_1.pth',
                              OnlineDistillationHook)
    assert runner.iter == runner.max_iters
    groups = len(load(work_dir / 'epoch_1.pth')['optimizer']['param_groups'])
    assert len(runner.optim_wrapper.optimizer.param_groups) == groups


def test_online_mirrors_the_entries_for_the_peer():
    hook = OnlineDistillationHook(peer=dict(config=TEACHER_CONFIG), distill=[NECK_MSE])
    assert [entry.name for entry in hook.source.peer_distiller.entries] == ['peer_neck_mse']
    with pytest.raises(ValueError, match="share the entry name"):
        OnlineDistillationHook(peer=dict(config=TEACHER_CONFIG), distill=[NECK_MSE],
                               peer_distill=[NECK_MSE])


# -------------------------------------------------------- self-distillation
def test_self_distillation_deep_teaches_shallow_without_a_second_model(tmp_path, synth_root):
    levels = dict(name='levels', student='neck[0]', teacher='neck[1]',
                  adapter=dict(type='mmkd.ConvAdapter', resize=True), loss=dict(type='mmkd.FeatureMSELoss'))
    deep = dict(name='deep', student='backbone', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))
    runner = train(scheme_cfg(tmp_path, synth_root, dict(type='mmkd.SelfDistillationHook', distill=[deep, levels])))
    hook = find_hook(runner, SelfDistillationHook)
    assert hook.source.model is runner.model
    for key in ('loss_deep', 'loss_levels'):
        assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar(f'train/{key}').data[0])).all()
    assert trained_state(runner, hook.distiller)
    neck = torch.randn(2, 3, requires_grad=True)
    records = hook.teacher_records(torch.zeros(1), [], {'neck': [neck]})
    assert not records['neck'][0].requires_grad  # the deep side sends no gradient back
    checkpoint = assert_plain_student_checkpoint(tmp_path / 'epoch_2.pth')
    assert checkpoint['mmkd']['teacher'] == dict(scheme='self')


# ------------------------------------------------------------ mean teacher
def mean_teacher_hook(**changes: Any) -> dict:
    averaging = dict(type='ExponentialMovingAverage', momentum=0.1, update_buffers=True)
    return dict(dict(type='mmkd.MeanTeacherDistillationHook', distill=[NECK_MSE, CLS_KD], averaging=averaging),
                **changes)


@pytest.fixture(scope='module')
def mean_teacher(tmp_path_factory, synth_root):
    work_dir = tmp_path_factory.mktemp('mean_teacher')
    return train(scheme_cfg(work_dir, synth_root, mean_teacher_hook())), work_dir


def test_mean_teacher_is_a_frozen_average_updated_every_iteration(mean_teacher):
    runner, work_dir = mean_teacher
    hook = find_hook(runner, MeanTeacherDistillationHook)
    teacher = hook.source.model
    assert teacher is hook.source.averaged.module and not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    assert int(hook.source.averaged.steps) == runner.iter + 1  # the copy at start + one update per iteration
    student = runner.model.state_dict()
    weight = 'neck.out_convs.0.conv.weight'
    assert not torch.equal(teacher.state_dict()[weight], student[weight])
    checkpoint = assert_plain_student_checkpoint(work_dir / 'epoch_2.pth')
    assert int(checkpoint['mmkd']['averaged']['steps']) == runner.iter + 1
    assert torch.equal(checkpoint['mmkd']['averaged'][f'module.{weight}'], teacher.state_dict()[weight].cpu())


def test_mean_teacher_resumes(mean_teacher, tmp_path, synth_root):
    _, work_dir = mean_teacher
    runner = resume_and_check(scheme_cfg(tmp_path, synth_root, mean_teacher_hook()), work_dir / 'epoch_1.pth',
                              MeanTeacherDistillationHook)
    assert int(find_hook(runner, MeanTeacherDistillationHook).source.averaged.steps) == runner.iter + 1


def test_snapshot_teacher_trains(tmp_path, synth_root):
    hook = mean_teacher_hook(averaging=dict(type='mmkd.SnapshotModel', interval=2), schedule=dict(start_iter=2))
    runner = train(scheme_cfg(tmp_path, synth_root, hook, epochs=1))
    assert int(find_hook(runner, MeanTeacherDistillationHook).source.averaged.steps) == runner.iter + 1


# ------------------------------------------------------------ multi-teacher
@pytest.fixture(scope='module')
def teachers(tmp_path_factory, synth_root, teacher_checkpoint):
    """Two teachers of different widths: the wide test teacher and a narrow one."""
    work_dir = tmp_path_factory.mktemp('narrow_teacher')
    narrow = dict(backbone=dict(widen_factor=0.125), neck=dict(in_channels=[32, 64, 128], out_channels=32),
                  bbox_head=dict(in_channels=32, feat_channels=32))  # the student's model, the teacher's recipe
    train(load_config('yolox_tiny_teacher_synth.py', work_dir, synth_root, model=narrow,
                      train_cfg=dict(max_epochs=1, val_interval=5)))
    return [dict(name='wide', config=TEACHER_CONFIG, checkpoint=str(teacher_checkpoint)),
            dict(name='narrow', config=STUDENT_CONFIG, checkpoint=str(work_dir / 'epoch_1.pth'))]


def multi_hook(teachers: list, **changes: Any) -> dict:
    return dict(dict(type='mmkd.MultiTeacherDistillationHook', teachers=teachers, distill=[NECK_MSE, CLS_KD]),
                **changes)


def weights_logged(runner: Runner) -> torch.Tensor:
    """``(K, iterations)`` teacher weights as logged."""
    return torch.tensor([runner.message_hub.get_scalar(f'train/w_{name}').data[0] for name in ('wide', 'narrow')],
                        dtype=torch.float)


def test_multi_teacher_learned_weights_with_per_teacher_adapters(tmp_path, synth_root, teachers):
    runner = train(scheme_cfg(tmp_path, synth_root,
                              multi_hook(teachers, weighting=dict(type='mmkd.LearnedTeacherWeights'))))
    hook = find_hook(runner, MultiTeacherDistillationHook)
    distillers = hook.source.distillers
    assert len(distillers[0].adapters['neck_mse']) == 3 and 'neck_mse' not in distillers[1].adapters
    for member in hook.source.members:
        assert not member.model.training and not any(p.requires_grad for p in member.model.parameters())
    assert hook.source.weighting.alpha.abs().sum() > 0 and trained_state(runner, hook.source.weighting)
    weights = weights_logged(runner)
    assert torch.allclose(weights.sum(0), torch.ones(runner.iter)) and not torch.equal(weights[:, 0], weights[:, -1])
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss_teacher_weights').data[0])).all()
    checkpoint = assert_plain_student_checkpoint(tmp_path / 'epoch_2.pth')
    assert {'distiller', 'weighting', 'teachers'} <= set(checkpoint['mmkd'])


def test_multi_teacher_confidence_weights_per_image_ensemble(tmp_path, synth_root, teachers):
    objectness = dict(name='obj_mse', student='bbox_head[2]', teacher='bbox_head[2]',
                      loss=dict(type='mmkd.FeatureMSELoss'))
    hook = multi_hook(teachers, distill=[CLS_KD, objectness], combine='target',
                      weighting=dict(type='mmkd.ConfidenceTeacherWeights', temperature=0.05))
    runner = train(scheme_cfg(tmp_path, synth_root, hook, epochs=1))
    weights = weights_logged(runner)
    assert torch.allclose(weights.sum(0), torch.ones(runner.iter))
    assert not torch.allclose(weights, torch.full_like(weights, 0.5))  # per-image, not uniform
    for key in ('loss_cls_kd', 'loss_obj_mse'):
        assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar(f'train/{key}').data[0])).all()


def test_multi_teacher_target_combination_needs_equal_shapes(tmp_path, synth_root, teachers):
    cfg = scheme_cfg(tmp_path, synth_root, multi_hook(teachers, combine='target'), epochs=1)
    with pytest.raises(ValueError, match=r'"neck" outputs, but their shapes differ'):
        train(cfg)


def bandit_hook(teachers: list) -> dict:
    return multi_hook(teachers, selector=dict(type='mmkd.EXP3TeacherSelector', gamma=0.5, seed=1))


@pytest.fixture(scope='module')
def bandit(tmp_path_factory, synth_root, teachers):
    work_dir = tmp_path_factory.mktemp('bandit')
    return train(scheme_cfg(work_dir, synth_root, bandit_hook(teachers))), work_dir


def test_exp3_picks_one_teacher_per_step_and_learns_from_heldout_rewards(bandit):
    runner, _ = bandit
    weights = weights_logged(runner)
    assert torch.equal(weights.sum(0), torch.ones(runner.iter)) and set(weights.flatten().tolist()) <= {0.0, 1.0}
    selector = find_hook(runner, MultiTeacherDistillationHook).source.selector
    assert (selector.log_weights != 0).any()  # rewarded after every iteration


def test_exp3_state_resumes(bandit, tmp_path, synth_root, teachers):
    _, work_dir = bandit
    resume_and_check(scheme_cfg(tmp_path, synth_root, bandit_hook(teachers)), work_dir / 'epoch_1.pth',
                     MultiTeacherDistillationHook)


def test_ucb_with_next_step_rewards(tmp_path, synth_root, teachers):
    hook = multi_hook(teachers, selector=dict(type='mmkd.UCBTeacherSelector'), reward='next_step')
    runner = train(scheme_cfg(tmp_path, synth_root, hook))
    selector = find_hook(runner, MultiTeacherDistillationHook).source.selector
    assert selector.counts.sum() == runner.iter - 1  # the first step has no previous choice to reward
    assert (weights_logged(runner).sum(1) > 0).all()  # untried teachers go first: both taught


# -------------------------------------------------------------- adversarial
def adversarial_hook(teacher_checkpoint: Path, **changes: Any) -> dict:
    adversarial = dict(name='neck_adv', student='neck', teacher='neck',
                       loss=dict(type='mmkd.AdversarialLoss', loss_weight=0.1,
                                 discriminator=dict(type='mmkd.FeatureDiscriminator', in_channels=64,
                                                    feat_channels=16)))
    return dict(dict(type='mmkd.AdversarialDistillationHook',
                     teacher=dict(config=TEACHER_CONFIG, checkpoint=str(teacher_checkpoint)),
                     distill=[NECK_MSE, adversarial]), **changes)


@pytest.fixture(scope='module')
def adversarial(tmp_path_factory, synth_root, teacher_checkpoint):
    work_dir = tmp_path_factory.mktemp('adversarial')
    return train(scheme_cfg(work_dir, synth_root, adversarial_hook(teacher_checkpoint))), work_dir


def test_discriminator_trains_with_its_own_optimizer(adversarial):
    runner, work_dir = adversarial
    hook = find_hook(runner, AdversarialDistillationHook)
    discriminator = hook.discriminators[0]
    assert not trained_state(runner, discriminator)  # not in the student's optimizer
    assert not any(p.requires_grad for p in discriminator.parameters())  # frozen outside its own step
    disc_state = hook.discriminator_optim_wrapper.optimizer.state
    assert all(disc_state[p]['step'] == runner.iter for p in discriminator.parameters())
    first, last = load(work_dir / 'epoch_1.pth')['mmkd'], load(work_dir / 'epoch_2.pth')['mmkd']
    keys = [k for k in last['distiller'] if 'discriminator' in k]
    assert keys and all(not torch.equal(first['distiller'][k], last['distiller'][k]) for k in keys)
    assert len(last['discriminator_optimizer']['state']) == len(keys)
    assert runner.message_hub.get_scalar('train/disc_loss') is not None
    assert runner.message_hub.get_scalar('train/loss_neck_adv') is not None
    assert_plain_student_checkpoint(work_dir / 'epoch_2.pth')


def test_discriminator_and_its_optimizer_resume(adversarial, tmp_path, synth_root, teacher_checkpoint):
    _, work_dir = adversarial
    resume_and_check(scheme_cfg(tmp_path, synth_root, adversarial_hook(teacher_checkpoint)),
                     work_dir / 'epoch_1.pth', AdversarialDistillationHook)


def test_adversarial_loss_refuses_the_plain_hook(tmp_path, synth_root, teacher_checkpoint):
    hook = adversarial_hook(teacher_checkpoint, type='mmkd.DistillationHook')
    with pytest.raises(RuntimeError, match='needs type="mmkd.AdversarialDistillationHook"'):
        train(scheme_cfg(tmp_path, synth_root, hook, epochs=1))


# ----------------------------------------------------------------- relation
def test_relation_losses_train_through_the_plain_hook(tmp_path, synth_root, teacher_checkpoint):
    entries = [dict(name='gid', student='neck', teacher='neck', loss=dict(type='mmkd.InstanceRelationLoss')),
               dict(name='pixel', student='neck', teacher='neck', loss=dict(type='mmkd.PixelRelationLoss', grid=4)),
               dict(name='sp', student='neck[2]', teacher='neck[2]',
                    loss=dict(type='mmkd.SimilarityPreservingLoss'))]
    hook = dict(type='mmkd.DistillationHook', distill=entries,
                teacher=dict(config=TEACHER_CONFIG, checkpoint=str(teacher_checkpoint)))
    runner = train(scheme_cfg(tmp_path, synth_root, hook, epochs=1))
    for key in ('loss_gid', 'loss_pixel', 'loss_sp'):
        values = torch.tensor(runner.message_hub.get_scalar(f'train/{key}').data[0])
        assert len(values) == runner.iter and torch.isfinite(values).all() and values.sum() > 0, key


# -------------------------------------------------------- teacher assistant
def test_teacher_assistant_chain_tool(tmp_path, synth_root, teacher_checkpoint):
    distill = CONFIGS / 'yolox_tiny_distill_synth.py'
    assistant = tmp_path / 'assistant.py'
    assistant.write_text(f"_base_ = '{distill}'\nmodel = dict(backbone=dict(widen_factor=0.1875), "
                         "neck=dict(in_channels=[48, 96, 192], out_channels=48), "
                         "bbox_head=dict(in_channels=48, feat_channels=48))\n")
    chain = tmp_path / 'chain.py'
    chain.write_text(f'teacher = dict(config={TEACHER_CONFIG!r}, checkpoint={str(teacher_checkpoint)!r})\n'
                     f"stages = [dict(name='assistant', config={str(assistant)!r}), "
                     f"dict(name='student', config={str(distill)!r})]\n")
    root = str(synth_root).rstrip('/') + '/'
    options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=5', 'train_dataloader.batch_size=8',
               f'train_dataloader.dataset.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
               f'test_dataloader.dataset.data_root={root}', f'val_evaluator.ann_file={root}annotations/val.json',
               f'test_evaluator.ann_file={root}annotations/val.json']
    out = subprocess.run([sys.executable, str(REPO / 'tools' / 'teacher_assistant.py'), str(chain),
                          '--work-dir', str(tmp_path / 'chain'), '--cfg-options', *options],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads((tmp_path / 'chain' / 'chain_results.json').read_text())
    assert [r['name'] for r in results] == ['teacher', 'assistant', 'student']
    assert all(isinstance(r['metrics'], dict) and Path(r['checkpoint']).is_file() for r in results)
    student = load(Path(results[2]['checkpoint']))
    assert student['mmkd']['teacher'] == dict(config=results[1]['config'], checkpoint=results[1]['checkpoint'])
    assert out.stdout.splitlines()[-4].split()[:2] == ['stage', 'coco/bbox_mAP']


# ---------------------------------------------------------- shipped configs
SCHEMES_DIR = REPO / 'configs' / 'distill' / 'schemes'
DATASETS = ('synth', 'neon')
SCHEME_CONFIGS = sorted(path for dataset in DATASETS for path in SCHEMES_DIR.glob(f'*_yolox_{dataset}.py'))
# the schemes with a config per dataset (the teacher-assistant chains' stages differ: tested apart)
BOTH_DATASETS = ('mean_teacher', 'snapshot', 'self_d2s', 'online_dml', 'relation', 'adversarial', 'multi_teacher',
                 'multi_teacher_confidence', 'multi_teacher_learned', 'multi_teacher_bandit')


def skip_without_recipes(dataset: str) -> None:
    if not (REPO / 'configs' / 'yolox' / f'yolox_student_{dataset}.py').is_file():
        pytest.skip('configs/yolox/ (the YOLOX recipes the schemes build on) is not there yet')


@pytest.mark.parametrize('path', SCHEME_CONFIGS, ids=[p.stem for p in SCHEME_CONFIGS])
def test_shipped_scheme_configs_build(path):
    skip_without_recipes(path.stem.rsplit('_', 1)[1])
    cfg = Config.fromfile(str(path))
    if 'stages' in cfg:  # a teacher-assistant chain
        assert all(Path(REPO / stage['config']).is_file() for stage in cfg.stages)
        return
    from mmkd.engine.standalone import distillation_hook_cfg
    from mmkd.registry import HOOKS
    assert isinstance(HOOKS.build(distillation_hook_cfg(cfg)), DistillationHook)


def untrained_teacher(teacher: dict, path: Path) -> dict:
    return dict(teacher, checkpoint=untrained_checkpoint(load_detector_config(teacher['config'], 'teacher'), path))


@pytest.mark.parametrize('dataset', DATASETS)
@pytest.mark.parametrize('scheme', BOTH_DATASETS)
def test_shipped_scheme_config_distils_on_a_random_batch(scheme, dataset, tmp_path, monkeypatch):
    """As tests/test_configs.py does for the offline configs: every term on a random batch, finite gradients."""
    skip_without_recipes(dataset)
    monkeypatch.chdir(REPO)  # teacher and peer configs are paths relative to the repository
    distils_on_a_random_batch(f'configs/distill/schemes/{scheme}_yolox_{dataset}.py', tmp_path)


def test_neon_teacher_assistant_student_distils_on_a_random_batch(tmp_path, monkeypatch):
    """The chain's second stage on NEON, from an (untrained) assistant: the synthetic chain's stages get their
    teacher from tools/teacher_assistant.py only."""
    monkeypatch.chdir(REPO)
    distils_on_a_random_batch('configs/distill/schemes/ta_student_yolox_neon.py', tmp_path)


def distils_on_a_random_batch(config: str, tmp_path: Path) -> None:
    """Every distillation term of ``config`` on a random batch: present, finite, with finite gradients."""
    from mmengine.optim import build_optim_wrapper

    from mmkd.engine.standalone import attach_hook, distillation_hook_cfg, random_detection_batch
    cfg = Config.fromfile(config)
    hook_cfg = distillation_hook_cfg(cfg)
    torch.manual_seed(0)
    if 'teacher' in hook_cfg:  # a frozen, pre-trained teacher: an untrained one here
        hook_cfg['teacher'] = untrained_teacher(hook_cfg['teacher'], tmp_path / 'teacher.pth')
    if 'teachers' in hook_cfg:  # multi-teacher: each untrained
        hook_cfg['teachers'] = [untrained_teacher(teacher, tmp_path / f'{teacher["name"]}.pth')
                                for teacher in hook_cfg['teachers']]
    student = build_detector(cfg).train()
    optim = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
    inputs, samples = random_detection_batch(2, 128, student.bbox_head.num_classes, boxes_per_image=4,
                                             pixel_max=1.0)  # [0, 1]: see test_configs.py
    val_batch = dict(inputs=list(inputs), data_samples=samples)  # a bandit's held-out reward batch
    hook = attach_hook(hook_cfg, student, build_optim_wrapper(student, optim), optim, val_dataloader=[val_batch])

    losses = student(inputs, samples, mode='loss')

    entries = list(hook.distiller.entries)
    if isinstance(hook, OnlineDistillationHook):  # and the peer's mirrored entries
        entries += hook.source.peer_distiller.entries
    keys = {f'loss_{entry.name}' for entry in entries}
    assert keys <= set(losses), sorted(keys - set(losses))
    if hook.balance is not None:  # measuring: the terms are weighted zero, their raw values recorded
        assert set(hook.balance.term_sums) == keys and set(hook.balance.ratios) <= keys  # else: KeyError at fix
        assert all(0 < value < float('inf') for value in hook.balance.term_sums.values())
    total = sum(value.sum() for key, value in losses.items() if key in keys)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in student.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(grad).all() for grad in grads)
    if isinstance(hook, SelfDistillationHook):
        assert hook.teacher is student
    elif isinstance(hook, OnlineDistillationHook):  # the peer learns from the student
        assert any(p.grad is not None for p in hook.teacher.parameters())
    else:
        assert not any(p.requires_grad for p in hook.teacher.parameters())
    if isinstance(hook, AdversarialDistillationHook):
        assert all(torch.isfinite(loss.discriminator_loss()) for loss in hook.adversarial)


@pytest.mark.parametrize('scheme', BOTH_DATASETS)
def test_neon_scheme_configs_train_the_neon_student_with_the_pairs_teacher(scheme):
    skip_without_recipes('neon')
    from mmkd.engine.standalone import distillation_hook_cfg
    cfg = Config.fromfile(str(SCHEMES_DIR / f'{scheme}_yolox_neon.py'))
    student = Config.fromfile(str(REPO / 'configs' / 'yolox' / 'yolox_student_neon.py'))
    for key in ('model', 'train_dataloader', 'train_cfg', 'param_scheduler', 'optim_wrapper'):
        assert cfg[key] == student[key], key
    hook = distillation_hook_cfg(cfg)
    pair = Config.fromfile(str(REPO / 'configs' / 'distill' / '_base_' / 'pairs' / 'yolox_neon.py'))
    if 'teacher' in hook:
        assert hook['teacher'] == pair.distillation_hook.teacher
        assert {key: hook['balance'][key] for key in ('target_ratio', 'iters')} == pair.distillation_hook.balance
    if 'teachers' in hook:  # the pair's teacher first, then the weaker or other-family ones
        first = hook['teachers'][0]
        assert dict(config=first['config'], checkpoint=first['checkpoint']) == pair.distillation_hook.teacher
        assert hook['balance']['iters'] == pair.distillation_hook.balance['iters']


def test_cyclic_snapshot_is_taken_where_its_learning_rate_cycle_ends():
    """snapshot_cyclic_yolox_neon.py: built as the Runner builds it (epochs converted to iterations), the learning
    rate restarts at base_lr right after every snapshot and is at its cycle's lowest when the snapshot is taken."""
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile(str(SCHEMES_DIR / 'snapshot_cyclic_yolox_neon.py'))
    interval = cfg.custom_hooks[-1].averaging.interval
    iters_per_epoch = 5  # 39 NEON train tiles at batch 8, last batch dropped: 200 iterations in 40 epochs
    optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=cfg.base_lr)
    schedulers = [PARAM_SCHEDULERS.build(scheduler, default_args=dict(optimizer=optimizer,
                                                                       epoch_length=iters_per_epoch))
                  for scheduler in cfg.param_scheduler]
    lrs = []
    for _ in range(cfg.max_epochs * iters_per_epoch):
        lrs.append(optimizer.param_groups[0]['lr'])
        for scheduler in schedulers:
            scheduler.step()
    lrs = torch.tensor(lrs)
    cycles = lrs.reshape(-1, interval)  # the snapshot after iteration k * interval teaches cycle k + 1
    assert len(cycles) == 5
    assert torch.allclose(cycles[1:, 0], torch.tensor(cfg.base_lr))
    past_warmup = cycles[:, cfg.warmup_epochs * iters_per_epoch:]
    assert (past_warmup.argmin(dim=1) == past_warmup.shape[1] - 1).all()
    assert (cycles[:, -1] < 0.07 * cfg.base_lr).all()
