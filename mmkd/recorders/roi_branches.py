"""RoI branches of two-stage detectors: which RoIs feed a recorded module.

A ``StandardRoIHead`` runs each branch as ``head(extractor(features, rois))``:
the box branch on the sampled proposals, the mask branch on the positive
ones. RoI-level outputs of two detectors only pair when both ran on the same
RoIs, so the student's recorder keeps the RoIs its extractors received (under
:func:`rois_key`) and the teacher reruns its branch on them.
"""
from typing import Optional

ROI_BRANCHES = ('bbox', 'mask')


def roi_branch(path: str) -> Optional[str]:
    """``'bbox'`` or ``'mask'`` for a path in that RoI branch, else ``None``."""
    for branch in ROI_BRANCHES:
        for module in (extractor_path(branch), f'roi_head.{branch}_head'):
            if path == module or path.startswith(f'{module}.'):
                return branch
    return None


def extractor_path(branch: str) -> str:
    """Module path of the RoI extractor of ``branch``."""
    return f'roi_head.{branch}_roi_extractor'


def rois_key(branch: str) -> str:
    """Record key of the ``(R, 5)`` RoIs (image index, x1, y1, x2, y2) of ``branch``."""
    return f'{extractor_path(branch)}:rois'


def check_roi_path(path: str, config_key: str) -> None:
    """Refuse ``roi_head`` modules outside the two branches (their inputs are not paired)."""
    if path.split('.')[0] == 'roi_head' and roi_branch(path) is None:
        raise ValueError(
            f'{config_key}="{path}": RoI-head outputs pair only when teacher and student see the same '
            'RoIs; record roi_head.bbox_roi_extractor, roi_head.bbox_head, roi_head.mask_roi_extractor, '
            'roi_head.mask_head or one of their submodules')
