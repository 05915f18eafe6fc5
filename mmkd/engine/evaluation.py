"""Evaluate a detector that is not ``runner.model`` with the run's evaluator."""
from typing import Dict

import torch
from torch import nn


def evaluate_detector(model: nn.Module, dataloader, evaluator) -> Dict[str, float]:
    """Run ``model.val_step`` over ``dataloader`` and return ``evaluator``'s metrics."""
    with torch.no_grad():
        for data_batch in dataloader:
            outputs = model.val_step(data_batch)
            evaluator.process(data_samples=outputs, data_batch=data_batch)
    return evaluator.evaluate(len(dataloader.dataset))
