"""NEON tree crowns (samples shipped in the DeepForest 2.1.0 wheel) as COCO.

The wheel's ``deepforest/data/`` folder holds four annotated RGB orthophotos
(Pascal VOC XML): two large crops of the YELL site and two 400x400 tiles of
OSBS and SOAP. They are cut into ``tile_size`` tiles and split spatially:

* a large image is cut by a horizontal line; the rows above it are tiled for
  ``train`` and the rows below it (at least one tile high) for ``val``, so no
  pixel is shared between the splits;
* a small image goes whole to the split listed in :data:`NEON_IMAGES`.

For choosing loss weights without looking at val, ``train`` is also written
as two disjoint parts: ``train_holdout`` (the second column of tiles of each
spatially split image: 7 tiles with 159 boxes by default; with ``stride >=
tile_size`` they share no pixel with the other tiles, as only a row's last
tile is moved back) and ``train_fit`` (the other train tiles). The first
column is not taken: its tiles hold 5 boxes.

A box cut by a tile edge is clipped to the tile and kept only if at least
``min_visible`` of its area lies inside the tile. Every label (``Tree``,
``Alive``, ``Dead``) becomes the single category ``tree``.

The package is located without importing it (its dependencies, such as
PyTorch Lightning, are not installed).
"""
import importlib.util
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from PIL import Image

from .coco_io import IMAGES_DIR, DatasetSourceError, annotation_path, box_annotations, outputs_match, write_coco

CLASSES = ('tree', )
SPLITS = ('train', 'val', 'train_fit', 'train_holdout')
SPATIAL = 'spatial'
INSTALL_FIX = ('run `pip install --no-deps deepforest==2.1.0` '
               '(or `make data`)')


@dataclass(frozen=True)
class NeonImage:
    """A source image of the DeepForest wheel and where it goes.

    Args:
        stem (str): File name without extension (``.png`` and ``.xml``).
        split (str): ``'train'`` or ``'val'`` for the whole image, or
            ``'spatial'`` to split it into a train top and a val bottom.
    """
    stem: str
    split: str


NEON_IMAGES: Tuple[NeonImage, ...] = (
    NeonImage('2019_YELL_2_528000_4978000_image_crop2', SPATIAL),
    NeonImage('2019_YELL_2_541000_4977000_image_crop', SPATIAL),
    NeonImage('OSBS_029', 'train'),
    NeonImage('SOAP_061', 'val'),
)


@dataclass(frozen=True)
class TilingParams:
    """How the source images are cut.

    Args:
        tile_size (int): Side of a square tile in pixels.
        stride (int): Step between tile origins; the last tile of a row or
            column is moved back to end at the region border, so it may
            overlap its neighbour.
        val_fraction (float): Share of a large image's height (from the
            bottom) that goes to ``val``; at least one tile high.
        min_visible (float): Smallest share of a box's area that must lie
            inside a tile for the (clipped) box to be kept.
    """
    tile_size: int = 400
    stride: int = 400
    val_fraction: float = 0.3
    min_visible: float = 0.5


@dataclass(frozen=True)
class Tile:
    """A tile window ``[x0, x1) x [y0, y1)`` of a source image."""
    stem: str
    split: str
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def file_name(self) -> str:
        return f'{self.stem}_x{self.x0:04d}_y{self.y0:04d}.png'

    def splits(self, image: NeonImage, params: TilingParams) -> Tuple[str, ...]:
        """The split files that list this tile: its split, and for a train tile its part of train."""
        if self.split != 'train':
            return (self.split, )
        held_out = image.split == SPATIAL and self.x0 == params.stride
        return ('train', 'train_holdout' if held_out else 'train_fit')


def find_deepforest_data() -> Path:
    """The ``data`` folder of the installed ``deepforest`` package.

    The package is found with :func:`importlib.util.find_spec`, which does
    not execute it.

    Raises:
        DatasetSourceError: If deepforest is not installed.
    """
    spec = importlib.util.find_spec('deepforest')
    if spec is None or not spec.submodule_search_locations:
        raise DatasetSourceError(
            'the NEON tree-crown images ship in the deepforest wheel, which '
            f'is not installed; {INSTALL_FIX}')
    return Path(list(spec.submodule_search_locations)[0]) / 'data'


def source_files(src: Path, stem: str) -> Tuple[Path, Path]:
    """The image and VOC file of ``stem`` in ``src``.

    Raises:
        DatasetSourceError: If one of them is missing.
    """
    paths = (src / f'{stem}.png', src / f'{stem}.xml')
    for path in paths:
        if not path.is_file():
            raise DatasetSourceError(
                f'NEON source file not found: {path}; {INSTALL_FIX}, '
                'or pass --src DIR holding the DeepForest data files')
    return paths


def read_voc_boxes(xml_path: Path) -> np.ndarray:
    """``(N, 4)`` float boxes ``x1, y1, x2, y2`` of a Pascal VOC file."""
    root = ET.parse(xml_path).getroot()
    coords = [[float(obj.findtext(f'bndbox/{key}')) for key in
               ('xmin', 'ymin', 'xmax', 'ymax')]
              for obj in root.iter('object')]
    return np.asarray(coords, dtype=np.float64).reshape(-1, 4)


def tile_origins(start: int, end: int, tile_size: int,
                 stride: int) -> np.ndarray:
    """Origins of the tiles covering ``[start, end)`` along one axis.

    Origins step by ``stride``; the last one is moved back so its tile ends
    at ``end``. A region shorter than a tile gets a single origin.
    """
    span = end - start - tile_size
    if span <= 0:
        return np.array([start])
    num = int(np.ceil(span / stride)) + 1
    origins = start + np.arange(num) * stride
    origins[-1] = start + span
    return origins


def split_regions(height: int, split: str,
                  params: TilingParams) -> Dict[str, Tuple[int, int]]:
    """Row ranges ``(y0, y1)`` of each split of an image.

    Raises:
        ValueError: If a spatially split image is less than two tiles high.
    """
    if split != SPATIAL:
        return {split: (0, height)}
    val_height = max(params.tile_size,
                     int(round(height * params.val_fraction)))
    cut = height - val_height
    if cut < params.tile_size:
        raise ValueError(f'an image {height} px high cannot hold a train and '
                         f'a val tile of {params.tile_size} px')
    return dict(train=(0, cut), val=(cut, height))


def plan_tiles(image: NeonImage, width: int, height: int,
               params: TilingParams) -> Iterator[Tile]:
    """The tiles of one source image, row by row."""
    xs = tile_origins(0, width, params.tile_size, params.stride)
    for split, (top, bottom) in split_regions(height, image.split,
                                              params).items():
        for y0 in tile_origins(top, bottom, params.tile_size, params.stride):
            y1 = min(int(y0) + params.tile_size, bottom)
            for x0 in xs:
                x1 = min(int(x0) + params.tile_size, width)
                yield Tile(image.stem, split, int(x0), int(y0), x1, y1)


def crop_boxes(boxes: np.ndarray, window: Tuple[int, int, int, int],
               min_visible: float) -> np.ndarray:
    """Boxes of a window, clipped and shifted to window coordinates.

    Args:
        boxes (np.ndarray): ``(N, 4)`` boxes ``x1, y1, x2, y2``.
        window (tuple[int]): ``x0, y0, x1, y1`` of the window.
        min_visible (float): Smallest share of a box's area inside the
            window for it to be kept.

    Returns:
        np.ndarray: ``(K, 4)`` kept boxes relative to the window origin.
    """
    x0, y0, x1, y1 = window
    clipped = np.clip(boxes, [x0, y0, x0, y0], [x1, y1, x1, y1])
    wh = clipped[:, 2:] - clipped[:, :2]
    full = boxes[:, 2:] - boxes[:, :2]
    area = full.prod(axis=1)
    visible = wh.prod(axis=1)
    keep = (area > 0) & (wh > 0).all(axis=1) & (
        visible >= min_visible * area)
    return clipped[keep] - np.array([x0, y0, x0, y0], dtype=boxes.dtype)


def conversion_stamp(params: TilingParams) -> dict:
    """What identifies one conversion's output (see ``outputs_match``)."""
    return dict(
        dataset='neon_trees',
        images=[[image.stem, image.split] for image in NEON_IMAGES],
        holdout='second tile column of each spatially split image',
        **asdict(params))


def convert_neon_trees(out_dir: Path,
                       src: Optional[Path] = None,
                       params: TilingParams = TilingParams(),
                       force: bool = False) -> bool:
    """Write the tiled NEON tree-crown dataset to ``out_dir``.

    Args:
        out_dir (Path): Output root; gets ``images/`` and
            ``annotations/{train,val,train_fit,train_holdout}.json``.
        src (Path, optional): Folder with the DeepForest data files. Defaults
            to the installed package's ``data`` folder.
        params (TilingParams): How to cut the images.
        force (bool): Rewrite the output even if it is up to date.

    Returns:
        bool: False if the output was up to date and left untouched.

    Raises:
        DatasetSourceError: If a source file is missing.
    """
    out_dir = Path(out_dir)
    src = Path(src) if src is not None else find_deepforest_data()
    sources = {image.stem: source_files(src, image.stem)
               for image in NEON_IMAGES}
    stamp = conversion_stamp(params)
    if not force and outputs_match(out_dir, SPLITS, stamp):
        return False

    (out_dir / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    images: Dict[str, List[dict]] = {split: [] for split in SPLITS}
    annotations: Dict[str, List[dict]] = {split: [] for split in SPLITS}
    image_id = ann_id = 1
    for image in NEON_IMAGES:
        png, xml = sources[image.stem]
        boxes = read_voc_boxes(xml)
        with Image.open(png) as pil:
            pixels = pil.convert('RGB')
        for tile in plan_tiles(image, pixels.width, pixels.height, params):
            pixels.crop((tile.x0, tile.y0, tile.x1, tile.y1)).save(
                out_dir / IMAGES_DIR / tile.file_name)
            kept = crop_boxes(boxes, (tile.x0, tile.y0, tile.x1, tile.y1),
                              params.min_visible)
            record = dict(
                id=image_id,
                file_name=tile.file_name,
                width=tile.x1 - tile.x0,
                height=tile.y1 - tile.y0)
            boxes_of_tile = box_annotations(
                kept, np.zeros(len(kept), dtype=np.int64), image_id, ann_id)
            for split in tile.splits(image, params):
                images[split].append(record)
                annotations[split] += boxes_of_tile
            image_id += 1
            ann_id += len(kept)
    for split in SPLITS:
        write_coco(
            annotation_path(out_dir, split), images[split],
            annotations[split], CLASSES, stamp)
    return True
