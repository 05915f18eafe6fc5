"""A seeded generator of multi-class shapes on textured backgrounds, as COCO.

Each image holds a few non-overlapping circles, squares and triangles of
random size, colour and rotation on a smooth random colour field with
stripes and pixel noise. A shape's colour does not depend on its class, so a
detector has to learn shapes, not colours. Boxes are the exact pixel extent
of each drawn shape (shapes never overlap, so nothing is occluded).

Image ``i`` of a split depends only on ``(seed, split, i)``, so a larger set
starts with the images of a smaller one.
"""
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from .coco_io import IMAGES_DIR, annotation_path, box_annotations, outputs_match, write_coco

CLASSES = ('circle', 'square', 'triangle')
SPLIT_IDS = dict(train=0, val=1)


@dataclass(frozen=True)
class ShapesParams:
    """What the generated images look like.

    Args:
        img_size (int): Side of the square images in pixels.
        min_shapes (int): Fewest shapes per image.
        max_shapes (int): Most shapes per image (fewer if they do not fit).
        min_scale (float): Smallest shape, as a share of ``img_size``.
        max_scale (float): Largest shape, as a share of ``img_size``.
        noise_std (float): Standard deviation of the pixel noise.
    """
    img_size: int = 320
    min_shapes: int = 2
    max_shapes: int = 8
    min_scale: float = 0.08
    max_scale: float = 0.3
    noise_std: float = 12.0


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``(size, size, 3)`` float texture: colour field plus stripes."""
    coarse = rng.integers(0, 256, (rng.integers(3, 8), ) * 2 + (3, ),
                          dtype=np.uint8)
    field = np.asarray(
        Image.fromarray(coarse).resize((size, size), Image.BICUBIC),
        dtype=np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 40)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) * (2 * np.pi / period)
    stripes = rng.uniform(5, 30) * np.sin(phase)
    return field + stripes[..., None]


def shape_mask(label: int, side: int, angle: float) -> np.ndarray:
    """Boolean ``(side, side)`` mask of a shape centred in its window.

    Args:
        label (int): Index in :data:`CLASSES`.
        side (int): Window side; the shape is inscribed in its circle.
        angle (float): Rotation in radians (ignored for circles).
    """
    radius = side / 2
    # pixel centres relative to the window centre
    v, u = np.mgrid[:side, :side].astype(np.float64) + 0.5 - radius
    if CLASSES[label] == 'circle':
        return u**2 + v**2 <= radius**2
    corners = 4 if CLASSES[label] == 'square' else 3
    theta = angle + 2 * np.pi * np.arange(corners) / corners
    vertices = radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    edges = np.roll(vertices, -1, axis=0) - vertices
    # inside a counter-clockwise convex polygon: left of every edge
    cross = (edges[:, 0, None, None] * (v - vertices[:, 1, None, None]) -
             edges[:, 1, None, None] * (u - vertices[:, 0, None, None]))
    return (cross >= 0).all(axis=0)


def mask_box(mask: np.ndarray) -> np.ndarray:
    """Tight ``x1, y1, x2, y2`` pixel box of a non-empty mask."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1],
                    dtype=np.float64)


def place_windows(rng: np.random.Generator, num: int,
                  params: ShapesParams) -> np.ndarray:
    """Up to ``num`` non-overlapping square windows ``x, y, side``.

    Candidates are drawn in one batch and accepted greedily when they do not
    touch an accepted window.
    """
    size = params.img_size
    sides = rng.integers(
        max(4, int(params.min_scale * size)),
        int(params.max_scale * size) + 1,
        size=8 * num)
    xy = rng.integers(0, size - sides + 1, size=(2, len(sides))).T
    candidates = np.concatenate([xy, sides[:, None]], axis=1)
    accepted = np.empty((0, 3), dtype=np.int64)
    for x, y, side in candidates:
        apart = ((x >= accepted[:, 0] + accepted[:, 2] + 2) |
                 (accepted[:, 0] >= x + side + 2) |
                 (y >= accepted[:, 1] + accepted[:, 2] + 2) |
                 (accepted[:, 1] >= y + side + 2))
        if apart.all():
            accepted = np.vstack([accepted, [x, y, side]])
            if len(accepted) == num:
                break
    return accepted


def render_image(
        rng: np.random.Generator,
        params: ShapesParams) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image with its boxes and labels.

    Returns:
        tuple: ``(H, W, 3)`` uint8 image, ``(N, 4)`` float boxes
        ``x1, y1, x2, y2`` and ``(N,)`` int labels.
    """
    img = background(rng, params.img_size)
    windows = place_windows(
        rng, int(rng.integers(params.min_shapes, params.max_shapes + 1)),
        params)
    labels = rng.integers(0, len(CLASSES), size=len(windows))
    angles = rng.uniform(0, 2 * np.pi, size=len(windows))
    colours = rng.uniform(0, 255, size=(len(windows), 3))
    boxes = np.zeros((len(windows), 4))
    for i, (x, y, side) in enumerate(windows):
        mask = shape_mask(labels[i], side, angles[i])
        img[y:y + side, x:x + side][mask] = colours[i]
        boxes[i] = mask_box(mask) + [x, y, x, y]
    img += rng.normal(0, params.noise_std, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), boxes, labels


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of image ``index`` of ``split``."""
    return np.random.default_rng([seed, SPLIT_IDS[split], index])


def generate_split(out_dir: Path, split: str, num_images: int, seed: int,
                   params: ShapesParams) -> Tuple[List[dict], List[dict]]:
    """Render one split's images; return its COCO images and annotations."""
    images, annotations = [], []
    for index in range(num_images):
        img, boxes, labels = render_image(
            image_rng(seed, split, index), params)
        file_name = f'{split}_{index:06d}.png'
        Image.fromarray(img).save(out_dir / IMAGES_DIR / file_name)
        image_id = index + 1
        images.append(
            dict(
                id=image_id,
                file_name=file_name,
                width=params.img_size,
                height=params.img_size))
        annotations += box_annotations(boxes, labels, image_id,
                                       len(annotations) + 1)
    return images, annotations


def generate_synthetic_shapes(out_dir: Path,
                              num_train: int = 256,
                              num_val: int = 64,
                              seed: int = 0,
                              params: ShapesParams = ShapesParams(),
                              force: bool = False) -> bool:
    """Write the synthetic shapes dataset to ``out_dir``.

    Args:
        out_dir (Path): Output root; gets ``images/`` and
            ``annotations/{train,val}.json``.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        seed (int): Seed of the whole dataset.
        params (ShapesParams): What the images look like.
        force (bool): Rewrite the output even if it is up to date.

    Returns:
        bool: False if the output was up to date and left untouched.
    """
    out_dir = Path(out_dir)
    sizes: Dict[str, int] = dict(train=num_train, val=num_val)
    stamp = dict(
        dataset='synthetic_shapes', seed=seed, sizes=sizes, **asdict(params))
    if not force and outputs_match(out_dir, tuple(sizes), stamp):
        return False
    (out_dir / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    for split, num in sizes.items():
        images, annotations = generate_split(out_dir, split, num, seed,
                                             params)
        write_coco(
            annotation_path(out_dir, split), images, annotations, CLASSES,
            stamp)
    return True
