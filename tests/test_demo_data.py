"""Tests of the dataset generators and of the dataset configs using them."""
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmkd.demo_data import DatasetSourceError, ShapesParams, TilingParams, convert_neon_trees, generate_synthetic_shapes
from mmkd.demo_data import synthetic_shapes as shapes
from mmkd.demo_data.neon_trees import NEON_IMAGES, crop_boxes, split_regions, tile_origins

REPO = Path(__file__).resolve().parents[1]
SMALL = ShapesParams(img_size=96, max_shapes=4)


def small_shapes(out_dir: Path, **kwargs) -> bool:
    """A tiny synthetic shapes set: 6 train and 3 val images of 96 px."""
    return generate_synthetic_shapes(
        out_dir, num_train=6, num_val=3, seed=3, params=SMALL, **kwargs)


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('shapes')
    small_shapes(root)
    return root


# ----------------------------------------------------------- synthetic shapes
def test_shapes_deterministic_and_idempotent(shapes_root, tmp_path):
    assert small_shapes(tmp_path)
    for rel in ('annotations/train.json', 'annotations/val.json',
                'images/train_000005.png', 'images/val_000002.png'):
        assert (tmp_path / rel).read_bytes() == (shapes_root /
                                                 rel).read_bytes()
    assert not small_shapes(tmp_path)
    assert small_shapes(tmp_path, force=True)


def test_shapes_image_depends_only_on_seed_split_index():
    first = shapes.render_image(shapes.image_rng(7, 'val', 4), SMALL)
    again = shapes.render_image(shapes.image_rng(7, 'val', 4), SMALL)
    other = shapes.render_image(shapes.image_rng(7, 'train', 4), SMALL)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_shape_masks_fill_their_boxes():
    side = 40
    circle = shapes.shape_mask(shapes.CLASSES.index('circle'), side, 0.3)
    np.testing.assert_array_equal(shapes.mask_box(circle), [0, 0, side, side])
    # a square turned by 45 degrees is axis-aligned, half-side r / sqrt(2)
    square = shapes.shape_mask(
        shapes.CLASSES.index('square'), side, np.pi / 4)
    centres = np.arange(side) + 0.5 - side / 2
    inside = np.flatnonzero(np.abs(centres) <= side / 2 / np.sqrt(2) + 1e-9)
    np.testing.assert_array_equal(
        square, np.outer(np.isin(np.arange(side), inside),
                         np.isin(np.arange(side), inside)))
    triangle = shapes.shape_mask(shapes.CLASSES.index('triangle'), side, 1.0)
    assert 0 < triangle.sum() < square.sum() < circle.sum()


def test_shape_boxes_are_exact(monkeypatch):
    """On a black background without noise, the boxes are exactly the
    bounding boxes of the lit pixels and nothing is lit outside them."""
    monkeypatch.setattr(shapes, 'background',
                        lambda rng, size: np.zeros((size, size, 3)))
    params = ShapesParams(img_size=128, max_shapes=6, noise_std=0)
    for index in range(5):
        img, boxes, labels = shapes.render_image(
            shapes.image_rng(0, 'train', index), params)
        lit = img.any(axis=2)
        covered = np.zeros_like(lit)
        assert len(boxes) >= params.min_shapes
        assert set(labels.tolist()) <= set(range(len(shapes.CLASSES)))
        for x1, y1, x2, y2 in boxes.astype(int):
            window = lit[y1:y2, x1:x2]
            assert window[0].any() and window[-1].any()
            assert window[:, 0].any() and window[:, -1].any()
            assert not covered[y1:y2, x1:x2].any(), 'boxes overlap'
            covered[y1:y2, x1:x2] = True
        assert not (lit & ~covered).any()


def test_shapes_coco_loads_in_mmdet_pipelines(shapes_root):
    """The YOLOX (mosaic) and plain dataset configs load the generated set,
    and the COCO metric scores the ground truth itself as a perfect 1.0."""
    from mmdet.registry import DATASETS, METRICS
    init_default_scope('mmdet')
    cfg = Config.fromfile(REPO / 'configs/yolox/yolox_student_synth.py')
    train = cfg.train_dataloader.dataset
    train.dataset.data_root = str(shapes_root)
    sample = DATASETS.build(train)[0]
    assert sample['inputs'].shape[1:] == (416, 416)

    val_cfg = cfg.val_dataloader.dataset
    val_cfg.data_root = str(shapes_root)
    val = DATASETS.build(val_cfg)
    coco = json.loads((shapes_root / 'annotations/val.json').read_text())
    assert len(val) == len(coco['images']) == 3

    metric = METRICS.build(
        dict(cfg.val_evaluator,
             ann_file=str(shapes_root / 'annotations/val.json')))
    metric.dataset_meta = val.metainfo
    for i in range(len(val)):
        item = val[i]
        # the test pipeline loads boxes after Resize: original pixels
        gt = item['data_samples'].gt_instances
        meta = item['data_samples'].metainfo
        bboxes = gt.bboxes.tensor
        metric.process({}, [
            dict(
                img_id=meta['img_id'],
                ori_shape=meta['ori_shape'],
                pred_instances=dict(
                    bboxes=bboxes,
                    scores=bboxes.new_ones(len(bboxes)),
                    labels=gt.labels))
        ])
    assert metric.evaluate(len(val))['coco/bbox_mAP'] == pytest.approx(1.0)


# ---------------------------------------------------------------- NEON trees
def test_crop_boxes_keeps_boxes_mostly_inside():
    boxes = np.array([
        [10, 10, 30, 30],  # inside
        [90, 10, 110, 20],  # half inside: kept, clipped
        [94, 40, 110, 50],  # 6/16 inside: dropped
        [120, 0, 130, 10],  # outside
        [5, 5, 5, 20],  # degenerate
        [-10, 60, 10, 100],  # half inside across the left edge
    ], dtype=float)
    kept = crop_boxes(boxes, (0, 0, 100, 100), min_visible=0.5)
    np.testing.assert_array_equal(
        kept, [[10, 10, 30, 30], [90, 10, 100, 20], [0, 60, 10, 100]])
    shifted = crop_boxes(boxes[:1], (5, 5, 105, 105), min_visible=0.5)
    np.testing.assert_array_equal(shifted, [[5, 5, 25, 25]])


def test_tile_origins_and_regions():
    np.testing.assert_array_equal(tile_origins(0, 1249, 400, 400),
                                  [0, 400, 800, 849])
    np.testing.assert_array_equal(tile_origins(100, 500, 400, 400), [100])
    np.testing.assert_array_equal(tile_origins(0, 300, 400, 400), [0])
    params = TilingParams()
    assert split_regions(1035, 'spatial', params) == dict(
        train=(0, 635), val=(635, 1035))
    assert split_regions(400, 'val', params) == dict(val=(0, 400))
    with pytest.raises(ValueError):
        split_regions(700, 'spatial', params)


def test_neon_missing_source_is_one_clear_error(tmp_path):
    with pytest.raises(DatasetSourceError) as info:
        convert_neon_trees(tmp_path / 'out', src=tmp_path)
    message = str(info.value)
    assert str(tmp_path / f'{NEON_IMAGES[0].stem}.png') in message
    assert 'pip install --no-deps deepforest==2.1.0' in message
    assert '\n' not in message


@pytest.fixture(scope='module')
def neon_root(tmp_path_factory) -> Path:
    if importlib.util.find_spec('deepforest') is None:
        pytest.skip('deepforest 2.1.0 (the NEON sources) is not installed')
    root = tmp_path_factory.mktemp('neon')
    assert convert_neon_trees(root)
    return root


def neon_tiles(root: Path, split: str):
    """``(coco, {stem: [(x0, y0, x1, y1), ...]})`` of a split."""
    coco = json.loads((root / f'annotations/{split}.json').read_text())
    tiles = {}
    for img in coco['images']:
        stem, x0, y0 = re.fullmatch(r'(.+)_x(\d+)_y(\d+)\.png',
                                    img['file_name']).groups()
        x0, y0 = int(x0), int(y0)
        tiles.setdefault(stem, []).append(
            (x0, y0, x0 + img['width'], y0 + img['height']))
    return coco, tiles


def test_neon_counts_and_boxes(neon_root):
    train, _ = neon_tiles(neon_root, 'train')
    val, _ = neon_tiles(neon_root, 'val')
    assert 35 <= len(train['images']) <= 45
    assert 14 <= len(val['images']) <= 20
    assert 1000 <= len(train['annotations']) + len(val['annotations']) <= 1400
    assert [c['name'] for c in train['categories']] == ['tree']
    for coco in (train, val):
        sizes = {img['id']: (img['width'], img['height'])
                 for img in coco['images']}
        assert all(size == (400, 400) for size in sizes.values())
        xywh = np.array([ann['bbox'] for ann in coco['annotations']])
        assert (xywh[:, 2:] > 0).all() and (xywh[:, :2] >= 0).all()
        assert (xywh[:, :2] + xywh[:, 2:] <= 400).all()


def assert_no_shared_pixel(first: dict, second: dict) -> None:
    """No tile of ``first`` overlaps one of ``second`` (``{stem: windows}`` of two splits)."""
    for stem in set(first) & set(second):
        a = np.array(first[stem])[:, None]
        b = np.array(second[stem])[None]
        overlap_w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(
            a[..., 0], b[..., 0])
        overlap_h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(
            a[..., 1], b[..., 1])
        assert not ((overlap_w > 0) & (overlap_h > 0)).any(), stem


def test_neon_splits_do_not_overlap(neon_root):
    _, train = neon_tiles(neon_root, 'train')
    _, val = neon_tiles(neon_root, 'val')
    assert_no_shared_pixel(train, val)
    whole = {image.stem: image.split for image in NEON_IMAGES
             if image.split != 'spatial'}
    for stem, split in whole.items():
        assert stem in (train if split == 'train' else val)
        assert stem not in (val if split == 'train' else train)


def test_neon_conversion_is_idempotent(neon_root):
    before = (neon_root / 'annotations/train.json').read_bytes()
    assert not convert_neon_trees(neon_root)
    assert convert_neon_trees(neon_root, force=True)
    assert (neon_root / 'annotations/train.json').read_bytes() == before


def test_neon_train_holdout_partitions_train(neon_root):
    train, _ = neon_tiles(neon_root, 'train')
    fit, fit_tiles = neon_tiles(neon_root, 'train_fit')
    holdout, holdout_tiles = neon_tiles(neon_root, 'train_holdout')
    ids = {name: {img['id'] for img in coco['images']} for name, coco in
           (('train', train), ('fit', fit), ('holdout', holdout))}
    assert ids['fit'] | ids['holdout'] == ids['train']
    assert not ids['fit'] & ids['holdout']
    assert len(ids['holdout']) == 7
    assert sorted(map(json.dumps, fit['annotations'] + holdout['annotations'])) == sorted(
        map(json.dumps, train['annotations']))
    assert_no_shared_pixel(fit_tiles, holdout_tiles)
    # the held-out column is the second one (x0 = stride) of the spatially split images
    assert {window[0] for windows in holdout_tiles.values() for window in windows} == {400}
