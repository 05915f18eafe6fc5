"""Demo data in COCO format: the NEON tree-crown converter and the synthetic shapes generator."""
from .coco_io import DatasetSourceError
from .neon_trees import TilingParams, convert_neon_trees
from .synthetic_shapes import ShapesParams, generate_synthetic_shapes

__all__ = [
    'DatasetSourceError', 'TilingParams', 'convert_neon_trees',
    'ShapesParams', 'generate_synthetic_shapes'
]
