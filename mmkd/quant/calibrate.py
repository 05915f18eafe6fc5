"""Post-training calibration: activation ranges from training images."""
import copy
from typing import Iterable

import torch
from mmengine.config import Config
from torch import nn
from torch.ao.quantization import MovingAverageMinMaxObserver

from .modules import quantizers, set_fake_quant, set_observers


def calibration_dataloader(cfg: Config, num_images: int) -> Iterable:
    """The first ``num_images`` training images through the config's test
    pipeline (no augmentation: ranges of the images the model will see),
    batched like the val set."""
    from mmengine.runner import Runner
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    while 'dataset' in dataset:  # dataset wrappers (MultiImageMixDataset)
        dataset = dataset.dataset
    dataset.update(pipeline=cfg.val_dataloader.dataset.pipeline, indices=num_images, test_mode=True)
    loader = copy.deepcopy(cfg.val_dataloader)
    loader.update(dataset=dataset, sampler=dict(type='DefaultSampler', shuffle=False))
    return Runner.build_dataloader(loader)


def calibrate(model: nn.Module, batches: Iterable) -> int:
    """Set every range of a prepared ``model`` from ``batches``; return their number.

    The model runs in eval mode on float values (fake quantisation off, so
    each range sees the float activations it will round); each activation
    range is the mean of the per-batch minima and maxima (the moving-average
    observer with constant ``1/k`` at batch ``k``), which one outlier batch
    cannot stretch the way a global min/max would. Afterwards fake
    quantisation is on, the observers are frozen, and each observer keeps its
    own averaging constant for QAT.
    """
    observers = [quantizer.activation_post_process for quantizer in quantizers(model)
                 if isinstance(quantizer.activation_post_process, MovingAverageMinMaxObserver)]
    constants = [observer.averaging_constant for observer in observers]
    model.eval()
    set_fake_quant(model, False)
    set_observers(model, True)
    count = 0
    with torch.no_grad():
        for count, data in enumerate(batches, 1):
            for observer in observers:
                observer.averaging_constant = 1.0 / count
            data = model.data_preprocessor(data, False)
            model._forward(data['inputs'], data['data_samples'])
    for observer, constant in zip(observers, constants):
        observer.averaging_constant = constant
    set_observers(model, False)
    set_fake_quant(model, True)
    return count
