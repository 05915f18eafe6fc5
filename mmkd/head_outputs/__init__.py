"""What detection heads output, per prior: parsing, ground-truth assignment, and
running a head's remaining layers on other features (cross-head KD)."""
from .checks import check_response_heads
from .dense_outputs import DenseOutputs, check_dense_head, pair_dense_outputs, parse_dense_outputs
from .regions import CentreAssignment, assign_by_centre, pairwise_diou
from .roi_targets import RoIAssignment, assign_rois

__all__ = [
    'DenseOutputs', 'parse_dense_outputs', 'pair_dense_outputs', 'check_dense_head',
    'check_response_heads', 'CentreAssignment', 'assign_by_centre', 'pairwise_diou', 'RoIAssignment',
    'assign_rois'
]
