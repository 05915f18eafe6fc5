"""Helpers that drive the hook without a Runner: the random teacher of the speed benchmarks."""
import torch
from mmengine.config import Config

from mmkd.engine.standalone import calibrate_batch_norm, random_checkpoint
from mmkd.engine.teacher import build_detector
from tests.utils import CONFIGS


def _features(model: torch.nn.Module, images: torch.Tensor) -> list:
    with torch.no_grad():
        return list(model.extract_feat(images))


def test_calibrated_batch_norm_gives_eval_mode_the_train_mode_features():
    torch.manual_seed(0)
    model = build_detector(Config.fromfile(str(CONFIGS / 'yolox_tiny_synth.py')))
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 255
    train_features = _features(model.train(), images)
    initial_features = _features(model.eval(), images)  # running statistics mean 0, variance 1
    assert not all(torch.allclose(i, t, rtol=1e-3, atol=1e-3) for i, t in zip(initial_features, train_features))
    calibrate_batch_norm(model, images)
    assert not model.training
    for calibrated, trained in zip(_features(model, images), train_features):
        torch.testing.assert_close(calibrated, trained, rtol=1e-3, atol=1e-3)


def test_a_random_checkpoint_set_on_images_computes_there_what_it_computes_in_train_mode(tmp_path):
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 255
    config = str(CONFIGS / 'yolox_tiny_synth.py')
    model = build_detector(Config.fromfile(config))
    model.load_state_dict(torch.load(random_checkpoint(config, str(tmp_path / 'teacher.pth'), images))['state_dict'])
    for frozen, trained in zip(_features(model.eval(), images), _features(model.train(), images)):
        torch.testing.assert_close(frozen, trained, rtol=1e-3, atol=1e-3)
