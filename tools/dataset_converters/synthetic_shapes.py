"""Generate the synthetic shapes detection dataset (COCO files).

    python tools/dataset_converters/synthetic_shapes.py \
        [--out data/synthetic_shapes/] [--num-train 256] [--num-val 64] \
        [--img-size 320] [--seed 0]

A second run with the same options leaves the output untouched.
"""
import argparse
from pathlib import Path

from mmkd.demo_data import ShapesParams, generate_synthetic_shapes
from mmkd.demo_data.coco_io import split_counts


def parse_args() -> argparse.Namespace:
    defaults = ShapesParams()
    parser = argparse.ArgumentParser(
        description='Generate the synthetic shapes dataset')
    parser.add_argument(
        '--out', default='data/synthetic_shapes/', help='output dataset root')
    parser.add_argument('--num-train', type=int, default=256)
    parser.add_argument('--num-val', type=int, default=64)
    parser.add_argument('--img-size', type=int, default=defaults.img_size)
    parser.add_argument(
        '--max-shapes', type=int, default=defaults.max_shapes,
        help='most shapes per image')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force', action='store_true', help='rewrite an up-to-date output')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    params = ShapesParams(img_size=args.img_size, max_shapes=args.max_shapes)
    written = generate_synthetic_shapes(
        Path(args.out), args.num_train, args.num_val, args.seed, params,
        args.force)
    state = 'written' if written else 'up to date (use --force to redo)'
    counts = ', '.join(f'{split}: {images} images, {boxes} boxes'
                       for split, (images, boxes) in split_counts(
                           Path(args.out), ('train', 'val')).items())
    print(f'Synthetic shapes {state} in {args.out} ({counts})')


if __name__ == '__main__':
    main()
