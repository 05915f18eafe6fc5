"""Tile the NEON tree crowns of the DeepForest wheel into a COCO dataset.

    python tools/dataset_converters/neon_trees.py [--out data/neon_trees/]

The source images are read from the installed ``deepforest`` package (found
without importing it; ``pip install --no-deps deepforest==2.1.0``) or from
``--src``. A second run with the same options leaves the output untouched.
"""
import argparse
from pathlib import Path

from mmkd.demo_data import DatasetSourceError, TilingParams, convert_neon_trees
from mmkd.demo_data.coco_io import split_counts
from mmkd.demo_data.neon_trees import SPLITS
from mmkd.utils.cli import one_line_errors


def parse_args() -> argparse.Namespace:
    defaults = TilingParams()
    parser = argparse.ArgumentParser(
        description='Convert the NEON tree crowns to tiled COCO files')
    parser.add_argument(
        '--out', default='data/neon_trees/', help='output dataset root')
    parser.add_argument(
        '--src',
        help='folder with the DeepForest data files (default: the '
        'installed deepforest package)')
    parser.add_argument('--tile-size', type=int, default=defaults.tile_size)
    parser.add_argument('--stride', type=int, default=defaults.stride)
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=defaults.val_fraction,
        help='bottom share of each large image that goes to val')
    parser.add_argument(
        '--min-visible',
        type=float,
        default=defaults.min_visible,
        help='smallest share of a cut box inside a tile for it to be kept')
    parser.add_argument(
        '--force', action='store_true', help='rewrite an up-to-date output')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    params = TilingParams(args.tile_size, args.stride, args.val_fraction,
                          args.min_visible)
    with one_line_errors(DatasetSourceError, ValueError):
        written = convert_neon_trees(
            Path(args.out), Path(args.src) if args.src else None, params,
            args.force)
    state = 'written' if written else 'up to date (use --force to redo)'
    counts = ', '.join(f'{split}: {images} tiles, {boxes} boxes'
                       for split, (images, boxes) in split_counts(
                           Path(args.out), SPLITS).items())
    print(f'NEON tree crowns {state} in {args.out} ({counts})')


if __name__ == '__main__':
    main()
