"""Relation-based distillation: the student matches how features relate to each other.

Relations (distances or similarities between instances, pixels or images)
do not depend on the feature width, so teacher and student may differ in
channels; with ``adapter='auto'`` a narrower student still gets a 1x1
adapter, which here acts as a learnt embedding.
"""
from .functional import normalised_distances, pairwise_distances, roi_levels
from .instance import InstanceRelationLoss
from .pixel import PixelRelationLoss
from .similarity import SimilarityPreservingLoss

__all__ = ['InstanceRelationLoss', 'PixelRelationLoss', 'SimilarityPreservingLoss', 'pairwise_distances',
           'normalised_distances', 'roi_levels']
