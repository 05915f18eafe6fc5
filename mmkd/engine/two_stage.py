"""Running a detector's RoI branches on given RoIs, and the probe's samples."""
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmkd.recorders.roi_branches import extractor_path, roi_branch, rois_key


def run_roi_branches(roi_head: nn.Module, features: Sequence[Tensor], record_paths: Iterable[str],
                     student_records: Dict[str, Any]) -> None:
    """Run each RoI branch the recorded paths need on the student's RoIs.

    ``head(extractor(features, rois))`` per branch, as ``StandardRoIHead``
    does (with its shared head when it has one), so the recorded teacher
    outputs are row by row those of the student's RoIs.

    Raises:
        ValueError: when the student did not record the RoIs of a branch
            (no student entry in that branch).
    """
    paths = list(record_paths)
    for branch in sorted({roi_branch(path) for path in paths} - {None}):
        rois = student_records.get(rois_key(branch))
        if rois is None:
            raise ValueError(
                f'teacher records {[p for p in paths if roi_branch(p) == branch]} need the student\'s RoIs, '
                f'but no student entry is in its {branch} RoI branch: pair {extractor_path(branch)} or '
                f'roi_head.{branch}_head on both sides')
        extractor = getattr(roi_head, f'{branch}_roi_extractor')
        roi_features = extractor(features[:extractor.num_inputs], rois)
        if any(path.startswith(f'roi_head.{branch}_head') for path in paths):
            if roi_head.with_shared_head:
                roi_features = roi_head.shared_head(roi_features)
            getattr(roi_head, f'{branch}_head')(roi_features)


def probe_batch(batch: int, size: Tuple[int, int], device: torch.device) -> Tuple[Tensor, List[Any]]:
    """A zero ``(batch, 3, H, W)`` batch and ``DetDataSample``s describing it.

    The samples carry the image metainfo mmdet's heads read at inference
    (``img_shape``, ``pad_shape``, ``batch_input_shape``, ``ori_shape``,
    ``scale_factor``) and no ground truth, so that every head, the RPN's
    proposal step included, runs on the probe.
    """
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    size = tuple(size)
    samples = []
    for _ in range(batch):
        sample = DetDataSample(metainfo=dict(img_shape=size, pad_shape=size, batch_input_shape=size,
                                             ori_shape=size, scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.zeros(0, 4, device=device),
                                           labels=torch.zeros(0, dtype=torch.long, device=device))
        samples.append(sample)
    return torch.zeros(batch, 3, *size, device=device), samples
