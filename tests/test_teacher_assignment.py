"""Label assignment distillation: the teacher's predictions choose the student's YOLOX targets."""
import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from mmengine.config import Config
from mmengine.structures import InstanceData
from utils import REPO, load_config, train

from mmkd.engine.teacher import build_detector, load_detector_config
from mmkd.hooks import TeacherAssignmentHook
from mmkd.hooks.teacher_assignment_hook import TeacherTargets, check_same_priors

ASSIGNMENT_CONFIGS = sorted(
    str(path.relative_to(REPO)) for path in (REPO / 'configs' / 'distill').glob('*.py')
    if any(hook.get('type') == 'mmkd.TeacherAssignmentHook'
           for hook in Config.fromfile(str(path)).get('custom_hooks', [])))


def yolox_head() -> YOLOXHead:
    head = YOLOXHead(num_classes=1, in_channels=8, feat_channels=8, stacked_convs=1, strides=(8,),
                     train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)))
    head.train()
    return head


def one_image_inputs(head: YOLOXHead, size: int = 32):
    """Priors of one 32 px level map, a ground-truth box and random (student) predictions for two images."""
    torch.manual_seed(0)
    priors = head.prior_generator.grid_priors([(size // 8, size // 8)], device='cpu', with_stride=True)[0]
    gt = InstanceData(bboxes=torch.tensor([[4.0, 4.0, 20.0, 20.0]]), labels=torch.tensor([0]))
    count = len(priors)
    student = dict(cls_preds=torch.randn(2, count, 1), decoded_bboxes=torch.rand(2, count, 4) * 16
                   + torch.tensor([0.0, 0.0, 16.0, 16.0]), objectness=torch.randn(2, count))
    return priors, gt, student


def perfect_teacher(priors: torch.Tensor, gt: InstanceData, sure_prior: int) -> dict:
    """Both images: the ground-truth box at every prior, confident only at ``sure_prior``."""
    count = len(priors)
    objectness = torch.full((2, count), -6.0)
    objectness[:, sure_prior] = 6.0
    return dict(cls_preds=torch.full((2, count, 1), 6.0), decoded_bboxes=gt.bboxes.expand(2, count, 4).clone(),
                objectness=objectness)


def test_the_teacher_predictions_choose_the_positives_and_their_iou_targets():
    head = yolox_head()
    priors, gt, student = one_image_inputs(head)
    sure_prior = 5  # the cell at (8, 8) px: inside the box, near its centre
    teacher = perfect_teacher(priors, gt, sure_prior)
    own = [head._get_targets_single(priors, *(student[key][i] for key in student), gt, {}) for i in range(2)]
    targets = TeacherTargets(head)
    targets.install()
    targets.set(teacher)
    assigned = [head._get_targets_single(priors, *(student[key][i] for key in student), gt, {}) for i in range(2)]
    targets.finish()
    for image in range(2):
        foreground, cls_target, obj_target = assigned[image][:3]
        assert foreground[sure_prior] and torch.equal(obj_target[:, 0] > 0, foreground)
        # the IoU-aware class target is the teacher's box's IoU with the ground truth: exactly 1
        assert torch.equal(cls_target, torch.ones_like(cls_target))
        assert not torch.equal(foreground, own[image][0])
        assert own[image][1].max() < 1  # the student's random boxes do not match the ground truth
    targets.remove()
    assert '_get_targets_single' not in vars(head)
    again = head._get_targets_single(priors, *(student[key][0] for key in student), gt, {})
    assert torch.equal(again[0], own[0][0])


def test_images_are_assigned_in_batch_order_with_their_own_predictions():
    head = yolox_head()
    priors, gt, student = one_image_inputs(head)
    teacher = perfect_teacher(priors, gt, sure_prior=5)
    teacher['objectness'][1, 5], teacher['objectness'][1, 6] = -6.0, 6.0  # image 1 is sure at another prior
    targets = TeacherTargets(head)
    targets.install()
    targets.set(teacher)
    first = head._get_targets_single(priors, *(student[key][0] for key in student), gt, {})
    second = head._get_targets_single(priors, *(student[key][1] for key in student), gt, {})
    targets.finish()
    targets.remove()
    expected = [head._get_targets_single(priors, *(teacher[key][i] for key in teacher), gt, {}) for i in range(2)]
    for got, want in zip((first, second), expected):
        assert all(torch.equal(a, b) for a, b in zip(got[:5], want[:5]))


def test_a_batch_not_assigned_image_by_image_is_an_error():
    head = yolox_head()
    priors, gt, student = one_image_inputs(head)
    targets = TeacherTargets(head)
    targets.install()
    targets.set(perfect_teacher(priors, gt, sure_prior=5))
    head._get_targets_single(priors, *(student[key][0] for key in student), gt, {})
    with pytest.raises(RuntimeError, match='assigned 1 images of a batch of 2'):
        targets.finish()


def test_teacher_and_student_priors_must_match():
    head = yolox_head()
    priors, gt, student = one_image_inputs(head)
    teacher = {key: value[:, :-1] for key, value in perfect_teacher(priors, gt, 5).items()}
    targets = TeacherTargets(head)
    targets.install()
    targets.set(teacher)
    with pytest.raises(RuntimeError, match='the teacher predicts'):
        head._get_targets_single(priors, *(student[key][0] for key in student), gt, {})


@pytest.fixture(scope='module')
def assigned_run(tmp_path_factory, synth_root, teacher_checkpoint):
    """The tiny YOLOX student trained 2 epochs with its targets assigned by the test teacher."""
    work_dir = tmp_path_factory.mktemp('lad')
    cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root, train_cfg=dict(max_epochs=2, val_interval=2))
    cfg.custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
    cfg.custom_hooks = cfg.custom_hooks + [dict(
        type='mmkd.TeacherAssignmentHook',
        teacher=dict(config='tests/configs/yolox_tiny_teacher_synth.py', checkpoint=str(teacher_checkpoint)))]
    calls = []
    original = TeacherTargets.__call__

    def counting(self, *args, **kwargs):
        calls.append(self.predictions is not None)
        return original(self, *args, **kwargs)
    TeacherTargets.__call__ = counting
    try:
        runner = train(cfg)
    finally:
        TeacherTargets.__call__ = original
    return runner, work_dir, calls


def test_every_training_image_is_assigned_from_the_teacher(assigned_run):
    runner, _, calls = assigned_run
    batch_size = runner.cfg.train_dataloader.batch_size
    assert calls and all(calls)
    assert len(calls) == runner.iter * batch_size


def test_the_run_leaves_a_plain_student_and_its_head_as_it_was(assigned_run):
    runner, work_dir, _ = assigned_run
    checkpoint = torch.load(str(work_dir / 'epoch_2.pth'), map_location='cpu')
    assert 'mmkd' not in checkpoint
    assert set(checkpoint['state_dict']) == set(runner.model.state_dict())
    assert '_get_targets_single' not in vars(runner.model.bbox_head)
    assert all(torch.isfinite(torch.tensor(value)) for value in runner.message_hub.log_scalars['train/loss'].data[0])


def test_only_heads_whose_assigner_reads_predictions(tmp_path, synth_root):
    cfg = load_config('yolox_tiny_synth.py', tmp_path, synth_root)
    student = build_detector(cfg)
    hook = TeacherAssignmentHook(teacher=dict(config='unused.py', checkpoint='unused.pth'), head='neck')
    with pytest.raises(TypeError, match=r'TeacherAssignmentHook.head: the student\'s "neck" is a YOLOXPAFPN'):
        hook._supported_head(student, 'student')
    with pytest.raises(KeyError, match=r'TeacherAssignmentHook.teacher must be dict\(config=..., checkpoint=...\)'):
        TeacherAssignmentHook(teacher=dict(config='unused.py'))


def test_teacher_head_must_place_the_students_priors_and_classes():
    student = yolox_head()
    other_strides = YOLOXHead(num_classes=1, in_channels=8, feat_channels=8, stacked_convs=1, strides=(16,))
    other_classes = YOLOXHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, strides=(8,))
    with pytest.raises(ValueError, match=r'strides \[\(16, 16\)\] differ from the student\'s \[\(8, 8\)\]'):
        check_same_priors(student, other_strides)
    with pytest.raises(ValueError, match='predicts 3 classes, the student\'s 1'):
        check_same_priors(student, other_classes)


@pytest.mark.parametrize('config', ASSIGNMENT_CONFIGS)
def test_shipped_assignment_configs_pair_heads_that_assign_alike(config, monkeypatch):
    monkeypatch.chdir(REPO)  # teacher configs are paths relative to the repository
    cfg = Config.fromfile(config)
    hook_cfg = next(hook for hook in cfg.custom_hooks if hook['type'] == 'mmkd.TeacherAssignmentHook')
    hook = TeacherAssignmentHook(**{key: value for key, value in hook_cfg.items() if key != 'type'})
    teacher = build_detector(load_detector_config(hook_cfg['teacher']['config'], 'teacher'))
    check_same_priors(hook._supported_head(build_detector(cfg), 'student'), hook._supported_head(teacher, 'teacher'))
