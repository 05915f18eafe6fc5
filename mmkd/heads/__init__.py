"""Per-prior parsing of dense head outputs, shared by response KD and masks."""
from .dense_outputs import DenseOutputs, pair_dense_outputs, parse_dense_outputs
from .regions import CentreAssignment, assign_by_centre, pairwise_diou
from .roi_targets import RoIAssignment, assign_rois

__all__ = [
    'DenseOutputs', 'parse_dense_outputs', 'pair_dense_outputs', 'CentreAssignment',
    'assign_by_centre', 'pairwise_diou', 'RoIAssignment', 'assign_rois'
]
