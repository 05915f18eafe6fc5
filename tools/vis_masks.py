"""Draw the feature-distillation masks of one image, level by level, over the image.

For a distillation config (the student model plus a ``mmkd.DistillationHook``
naming the teacher), takes one sample of the config's val (or train) dataset
through its pipeline and the student's data preprocessor, runs student and
teacher on it recording their ``neck`` and ``bbox_head`` outputs, builds each
mask family of :mod:`mmkd.masks` on the teacher's neck levels and writes, under
``--out-dir``::

    <image>_<mask>_level<k>.png     the mask of level k as a heat map over the
                                    grey input image (pixel for pixel the
                                    model's input, GT boxes in green)
    <image>_features_level<k>.png   teacher | student feature activity
                                    mean_c |F| of level k, side by side
    <image>_masks.png               summary grid: one row per mask (then the
                                    teacher and student activity), one column
                                    per level

Usage::

    python tools/vis_masks.py DISTILL_CONFIG [--student-checkpoint CKPT]
        [--teacher-config CFG] [--teacher-checkpoint CKPT | --random-teacher]
        [--index N | --image-id ID] [--split val|train] [--out-dir DIR]
        [--levels 0 1 2] [--masks foreground background ...] [--dpi 100] [--palette]
        [--seed 0] [--device cpu]

    # e.g. the FGD pair on the NEON tree crowns (docs/images/masks_neon.png)
    python tools/vis_masks.py configs/distill/fgd_yolox_neon.py --index 4 \\
        --out-dir work_dirs/vis_masks/neon --dpi 80 --palette

Masks (``--masks``, all by default): ``foreground`` (``GTBoxMask``),
``background`` (DeFeat's ``DecoupledMask``, fg and bg weight 1),
``scale_aware`` (FGD's ``ScaleAwareMask``), ``discrepancy``
(``DiscrepancyMask``, normalised), ``gid`` (``GIDMask``), ``attention`` (the
teacher's ``SpatialAttentionMask``, T = 0.5). Each panel is scaled by its own
maximum (written in its corner in the summary); cells are drawn as blocks
(nearest upsampling), so the level's resolution shows. The student's features
are its own, before any adapter (their channel count may differ from the
teacher's).

Without ``--student-checkpoint`` the student is randomly initialised, which is
what a distillation run starts from; ``--random-teacher`` does the same to the
teacher (only to check the pipeline: its masks mean nothing). Both models run
in eval mode, without batch augments; ``--split train`` shows the training
pipeline's output (mosaics for YOLOX) under ``--seed``.

The image is taken as the pipeline packs it (BGR, mmcv's default). A missing
config, checkpoint or data file ends with one ``error:`` line and exit code 2.
"""
import argparse
import copy
import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor, nn

import mmkd  # noqa: F401  (mmkd registries, checkpoint loading fix)
from mmkd.context import DistillContext
from mmkd.engine.distiller import as_levels, is_feature_levels
from mmkd.engine.standalone import distillation_hook_cfg
from mmkd.engine.teacher import (
    TeacherInputConverter,
    build_detector,
    freeze,
    load_detector_config,
    load_weights,
    run_detector,
)
from mmkd.masks import build_mask, spatial_activity
from mmkd.recorders import ModuleRecorder
from mmkd.utils.cli import fail, one_line_errors
from mmkd.utils.config_checks import check_checkpoint, check_config_file, check_data_files, iter_datasets

# name -> mask config; the order is the row order of the summary
MASKS: Dict[str, dict] = {
    'foreground': dict(type='mmkd.GTBoxMask'),
    'background': dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=1.0),
    'scale_aware': dict(type='mmkd.ScaleAwareMask', fg_weight=1.0, bg_weight=1.0),
    'discrepancy': dict(type='mmkd.DiscrepancyMask', normalize=True),
    'gid': dict(type='mmkd.GIDMask', iou_threshold=0.3, topk=10),
    'attention': dict(type='mmkd.SpatialAttentionMask', temperature=0.5, source='teacher'),
}
FEATURES = 'neck'
HEAD = 'bbox_head'
MASK_CMAP = 'inferno'
FEATURE_CMAP = 'viridis'
MASK_ALPHA = 0.6
BOX_COLOUR = (0, 255, 0)


@dataclass
class Sample:
    """One preprocessed image: what the models see and what is drawn under the masks."""
    name: str
    inputs: Tensor        # (1, 3, H, W), after the student's data preprocessor
    data_samples: list    # [DetDataSample] with gt_instances in input pixels
    image: np.ndarray     # (H, W, 3) uint8 RGB, padded like ``inputs``


@dataclass
class Panel:
    """One level of one map, drawn over the image (``H x W x 3`` uint8)."""
    row: str
    level: int
    picture: np.ndarray
    peak: float


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Overlay feature-distillation masks and teacher/student feature maps on one image')
    parser.add_argument('config', help='distillation config (student model + mmkd.DistillationHook)')
    parser.add_argument('--student-checkpoint', help='student weights (default: random initialisation)')
    parser.add_argument('--teacher-config', help="override the hook's teacher.config")
    teacher = parser.add_mutually_exclusive_group()
    teacher.add_argument('--teacher-checkpoint', help="override the hook's teacher.checkpoint")
    teacher.add_argument('--random-teacher', action='store_true',
                         help='randomly initialised teacher (to check the pipeline only)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--index', type=int, default=0, help='dataset index of the image (default 0)')
    which.add_argument('--image-id', type=int, help='COCO image id of the image')
    parser.add_argument('--split', choices=('val', 'train'), default='val')
    parser.add_argument('--out-dir', default='work_dirs/vis_masks', help='where the PNGs go')
    parser.add_argument('--levels', type=int, nargs='+', help='feature levels to draw (default: all)')
    parser.add_argument('--masks', nargs='+', choices=list(MASKS), default=list(MASKS),
                        help='mask families to draw (default: all)')
    parser.add_argument('--dpi', type=int, default=100, help='resolution of the summary PNG')
    parser.add_argument('--palette', action='store_true',
                        help='save the summary with 256 colours (a third of the size, e.g. for docs)')
    parser.add_argument('--seed', type=int, default=0, help='seed of random init and random transforms')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- set-up

def load_distill_config(args: argparse.Namespace) -> Tuple[Config, dict]:
    """The distillation config and its (possibly overridden) teacher entry, files checked."""
    with one_line_errors():
        check_config_file(args.config)
    cfg = Config.fromfile(args.config)
    try:
        hook = distillation_hook_cfg(cfg)
    except KeyError as e:
        fail(f'{args.config}: {e.args[0]}')
    teacher = dict(hook.get('teacher') or {})
    if args.teacher_config:
        teacher['config'] = args.teacher_config
    if args.teacher_checkpoint:
        teacher['checkpoint'] = args.teacher_checkpoint
    if not teacher.get('config'):
        fail(f'{args.config}: the distillation hook names no teacher=dict(config=..., checkpoint=...); '
             'pass --teacher-config and --teacher-checkpoint')
    if not args.random_teacher and not teacher.get('checkpoint'):
        fail(f'{args.config}: no teacher checkpoint; pass --teacher-checkpoint CKPT '
             '(or --random-teacher to check the pipeline)')
    with one_line_errors():
        if '::' not in teacher['config']:
            check_config_file(teacher['config'])
        if not args.random_teacher:
            check_checkpoint(teacher['checkpoint'], 'teacher checkpoint', teacher['config'])
        if args.student_checkpoint:
            check_checkpoint(args.student_checkpoint, 'student checkpoint', args.config)
        check_data_files(cfg, (args.split,))
    return cfg, teacher


def build_model(config: Config, checkpoint: Optional[str], config_key: str, device: str,
                expected: str = 'the teacher config') -> nn.Module:
    """A frozen detector of ``config``: ``checkpoint``'s weights, else its own init.

    ``expected`` names ``config`` in the error about a checkpoint of another model.
    """
    model = build_detector(config)
    if checkpoint:
        with one_line_errors(ValueError):  # a checkpoint of another model
            load_weights(model, checkpoint, config_key, expected)
    else:
        model.init_weights()
    return freeze(model).to(device)


def build_dataset(cfg: Config, split: str) -> Any:
    """The split's dataset, with its ground truth in input pixels (see :func:`annotations_first`)."""
    from mmdet.registry import DATASETS
    from mmengine.registry import DefaultScope
    dataset_cfg = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    for inner in iter_datasets(dataset_cfg):
        if inner.get('pipeline'):
            inner['pipeline'] = annotations_first(inner['pipeline'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DATASETS.build(dataset_cfg)


def annotations_first(pipeline: Sequence[dict]) -> List[dict]:
    """``pipeline`` with ``LoadAnnotations`` moved right after ``LoadImageFromFile``.

    mmdet's test pipelines load the boxes after ``Resize``, leaving them in
    the original image's pixels for the evaluator; the masks need them in
    the input's pixels, so the geometric transforms must see them.
    """
    steps = list(pipeline)
    names = [str(step.get('type', '')).split('.')[-1] for step in steps]
    if 'LoadAnnotations' not in names or 'LoadImageFromFile' not in names:
        return steps
    annotations = steps.pop(names.index('LoadAnnotations'))
    steps.insert(names.index('LoadImageFromFile') + 1, annotations)
    return steps


def innermost(dataset: Any) -> Any:
    """The dataset under any wrappers (``MultiImageMixDataset`` indexes it 1:1)."""
    while hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def find_index(dataset: Any, image_id: int) -> int:
    base = innermost(dataset)
    base.full_init()
    for index in range(len(base)):
        if base.get_data_info(index).get('img_id') == image_id:
            return index
    fail(f'no image with id {image_id} in the dataset ({len(base)} images)')


def load_sample(dataset: Any, index: int, preprocessor: nn.Module, device: str) -> Sample:
    """Sample ``index`` through the pipeline and the student's preprocessor (no batch augments)."""
    if not 0 <= index < len(dataset):
        fail(f'--index {index} is out of range: the dataset has {len(dataset)} images')
    packed = dataset[index]
    if packed is None:
        fail(f'the pipeline dropped image {index} (no annotations left?); pick another --index')
    batch = preprocessor(dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]),
                         training=False)
    inputs = batch['inputs'].to(device)
    sample = batch['data_samples'][0]
    name = Path(sample.metainfo.get('img_path', f'index{index}')).stem
    return Sample(name, inputs, [sample.to(device)], display_image(packed['inputs'], inputs.shape[-2:]))


def display_image(packed: Tensor, size: Tuple[int, int]) -> np.ndarray:
    """The pipeline's ``(3, h, w)`` BGR image as RGB, zero-padded (bottom/right) to ``size``."""
    height, width = size
    image = np.zeros((height, width, 3), np.uint8)
    pixels = packed.flip(0).permute(1, 2, 0).clamp(0, 255).byte().cpu().numpy()
    h, w = min(height, pixels.shape[0]), min(width, pixels.shape[1])
    image[:h, :w] = pixels[:h, :w]
    return image


# -------------------------------------------------------------- running

def record(model: nn.Module, inputs: Tensor, paths: Sequence[str], config_key: str) -> Dict[str, Any]:
    """Outputs of ``paths`` of ``model`` on ``inputs`` (no gradients)."""
    recorder = ModuleRecorder(model, paths, config_key)
    try:
        with torch.no_grad(), recorder.capture() as records:
            run_detector(model, inputs, recorder.modules)
    finally:
        recorder.detach()
    return records


def run_pair(student: nn.Module, teacher: nn.Module, sample: Sample) -> DistillContext:
    """Both models on the sample (teacher on its own normalisation), as a mask sees it."""
    paths = (FEATURES, HEAD)
    teacher_inputs = TeacherInputConverter(student.data_preprocessor, teacher.data_preprocessor)(sample.inputs)
    ctx = DistillContext(inputs=sample.inputs, data_samples=sample.data_samples, student=student,
                         teacher=teacher, student_records=record(student, sample.inputs, paths, 'student'),
                         teacher_records=record(teacher, teacher_inputs, paths, 'teacher'))
    for side, records in (('student', ctx.student_records), ('teacher', ctx.teacher_records)):
        if not is_feature_levels(records[FEATURES]):
            raise TypeError(f'the {side} {FEATURES} output is not a list of (B, C, H, W) levels')
    return ctx


def compute_masks(names: Sequence[str], ctx: DistillContext) -> Dict[str, List[Tensor]]:
    """Each mask's ``(1, 1, H_l, W_l)`` levels on the teacher's neck; unbuildable ones skipped."""
    student = as_levels(ctx.student_records[FEATURES])
    teacher = as_levels(ctx.teacher_records[FEATURES])
    masks = {}
    for name in names:
        try:
            masks[name] = build_mask(MASKS[name])(student, teacher, ctx)
        except (TypeError, ValueError) as e:  # e.g. a head the discrepancy masks cannot parse
            print(f'warning: skipping the {name} mask: {e}', file=sys.stderr)
    return masks


def activities(ctx: DistillContext) -> Dict[str, List[Tensor]]:
    """``mean_c |F|`` of every teacher and student level, ``(1, 1, H_l, W_l)``, by row label."""
    rows = {}
    for side, records in (('teacher', ctx.teacher_records), ('student', ctx.student_records)):
        levels = as_levels(records[FEATURES])
        rows[f'{side} |F| ({levels[0].shape[1]} ch)'] = [spatial_activity(level.float()) for level in levels]
    return rows


# -------------------------------------------------------------- drawing

def heat(level: Tensor, size: Tuple[int, int], cmap: str) -> Tuple[np.ndarray, float]:
    """``(1, 1, h, w)`` map -> ``(H, W, 3)`` float RGB in [0, 1] (scaled by its maximum), maximum."""
    from matplotlib import colormaps
    values = F.interpolate(level.float(), size=size, mode='nearest')[0, 0]
    peak = float(values.max())
    scaled = (values / peak if peak > 0 else values.clamp(min=0)).clamp(0, 1).cpu().numpy()
    return colormaps[cmap](scaled)[..., :3], peak


def overlay(image: np.ndarray, colours: np.ndarray, alpha: float = MASK_ALPHA) -> np.ndarray:
    """``colours`` blended over the grey version of ``image`` (colours of the image would mix in)."""
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return (grey[..., None] * (1 - alpha) + colours * 255 * alpha).round().astype(np.uint8)


def draw_boxes(picture: np.ndarray, boxes: Tensor, colour: Tuple[int, int, int] = BOX_COLOUR) -> np.ndarray:
    """One-pixel outlines of ``(M, 4)`` xyxy boxes (a copy)."""
    picture = picture.copy()
    height, width = picture.shape[:2]
    corners = boxes.round().long().cpu()
    corners[:, 0::2] = corners[:, 0::2].clamp(0, width - 1)
    corners[:, 1::2] = corners[:, 1::2].clamp(0, height - 1)
    for x1, y1, x2, y2 in corners.tolist():
        picture[y1:y2 + 1, [x1, x2]] = colour
        picture[[y1, y2], x1:x2 + 1] = colour
    return picture


def gt_boxes(sample: Sample) -> Tensor:
    bboxes = sample.data_samples[0].gt_instances.get('bboxes', torch.zeros(0, 4))
    return bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes


def mask_panels(masks: Dict[str, List[Tensor]], sample: Sample, levels: Sequence[int]) -> List[Panel]:
    size = tuple(sample.image.shape[:2])
    boxes = gt_boxes(sample)
    panels = []
    for name, maps in masks.items():
        for level in levels:
            colours, peak = heat(maps[level][:1], size, MASK_CMAP)
            panels.append(Panel(name, level, draw_boxes(overlay(sample.image, colours), boxes), peak))
    return panels


def feature_panels(features: Dict[str, List[Tensor]], size: Tuple[int, int],
                   levels: Sequence[int]) -> List[Panel]:
    panels = []
    for side, maps in features.items():
        for level in levels:
            colours, peak = heat(maps[level][:1], size, FEATURE_CMAP)
            panels.append(Panel(side, level, (colours * 255).round().astype(np.uint8), peak))
    return panels


def level_title(level: int, maps: Sequence[Tensor], input_size: Tuple[int, int]) -> str:
    h, w = maps[level].shape[-2:]
    return f'level {level}: {h}x{w}, stride {input_size[0] // h}'


def save_features(panels: List[Panel], path: Path, level: int, title: str) -> None:
    """Teacher and student activity of one level side by side."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(8, 4.4), layout='constrained')
    axes = figure.subplots(1, 2)
    for ax, panel in zip(axes, [p for p in panels if p.level == level]):
        ax.imshow(panel.picture)
        ax.set_title(f'{panel.row} (max {panel.peak:.3g})', fontsize=10)
        ax.axis('off')
    figure.suptitle(f'mean_c |F| of the neck, {title}', fontsize=10)
    figure.savefig(path, dpi=100)


def save_summary(panels: List[Panel], rows: Sequence[str], levels: Sequence[int], titles: Dict[int, str],
                 path: Path, title: str, dpi: int, palette: bool = False) -> None:
    """Grid of panels: one row per map, one column per level."""
    from matplotlib.figure import Figure
    cell = 2.6
    figure = Figure(figsize=(cell * len(levels), cell * len(rows) + 0.4), layout='constrained')
    axes = np.asarray(figure.subplots(len(rows), len(levels), squeeze=False))
    by_key = {(p.row, p.level): p for p in panels}
    for i, row in enumerate(rows):
        for j, level in enumerate(levels):
            ax, panel = axes[i, j], by_key[row, level]
            ax.imshow(panel.picture)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.02, 0.98, f'max {panel.peak:.3g}', transform=ax.transAxes, fontsize=7,
                    va='top', bbox=dict(facecolor='white', alpha=0.7, pad=1, linewidth=0))
            if i == 0:
                ax.set_title(titles[level], fontsize=9)
            if j == 0:
                ax.set_ylabel(row, fontsize=10)
    figure.suptitle(title, fontsize=10)
    if not palette:
        figure.savefig(path, dpi=dpi)
        return
    from PIL import Image  # matplotlib's own dependency
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=dpi)
    picture = Image.open(buffer).convert('RGB')
    picture.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def write_pictures(sample: Sample, masks: Dict[str, List[Tensor]], features: Dict[str, List[Tensor]],
                   levels: Sequence[int], out_dir: Path, title: str, dpi: int = 100,
                   palette: bool = False) -> List[Path]:
    """Every PNG of the module doc; returns their paths."""
    from matplotlib.image import imsave
    out_dir.mkdir(parents=True, exist_ok=True)
    input_size = tuple(sample.image.shape[:2])
    written = []
    panels = mask_panels(masks, sample, levels)
    for panel in panels:
        written.append(out_dir / f'{sample.name}_{panel.row}_level{panel.level}.png')
        imsave(written[-1], panel.picture)
    activity = feature_panels(features, input_size, levels)
    titles = {level: level_title(level, next(iter(features.values())), input_size) for level in levels}
    for level in levels:
        written.append(out_dir / f'{sample.name}_features_level{level}.png')
        save_features(activity, written[-1], level, titles[level])
    rows = list(masks) + list(dict.fromkeys(p.row for p in activity))
    written.append(out_dir / f'{sample.name}_masks.png')
    save_summary(panels + activity, rows, levels, titles, written[-1], title, dpi, palette)
    return written


# ------------------------------------------------------------------ main

def main(argv: Optional[Sequence[str]] = None) -> List[Path]:
    """Run the tool; returns the PNGs written (the summary last)."""
    args = parse_args(argv)
    with warnings.catch_warnings():
        # resolving `mmdet::` config bases imports pkg_resources, which
        # setuptools>=80 flags as deprecated on every run
        warnings.filterwarnings('ignore', 'pkg_resources is deprecated', UserWarning)
        return visualise(args)


def visualise(args: argparse.Namespace) -> List[Path]:
    cfg, teacher_cfg = load_distill_config(args)
    from mmengine.logging import MMLogger
    from mmengine.runner import set_random_seed
    MMLogger.get_instance('vis_masks', log_level='WARNING')  # no per-parameter init log
    set_random_seed(args.seed)
    with one_line_errors(FileNotFoundError):
        teacher_config = load_detector_config(teacher_cfg['config'], '--teacher-config')
    student = build_model(cfg, args.student_checkpoint, '--student-checkpoint', args.device,
                          f'the student model of {args.config}')
    teacher = build_model(teacher_config, None if args.random_teacher else teacher_cfg['checkpoint'],
                          'teacher.checkpoint', args.device)
    dataset = build_dataset(cfg, args.split)
    index = args.index if args.image_id is None else find_index(dataset, args.image_id)
    sample = load_sample(dataset, index, student.data_preprocessor, args.device)
    ctx = run_pair(student, teacher, sample)
    num_levels = len(as_levels(ctx.teacher_records[FEATURES]))
    levels = list(range(num_levels)) if args.levels is None else list(dict.fromkeys(args.levels))
    bad = [level for level in levels if not 0 <= level < num_levels]
    if bad:
        fail(f'--levels {bad}: the teacher neck has levels 0..{num_levels - 1}')
    masks = compute_masks(args.masks, ctx)
    teacher_name = 'random init' if args.random_teacher else Path(teacher_cfg['checkpoint']).name
    student_name = Path(args.student_checkpoint).name if args.student_checkpoint else 'random init'
    title = (f'{Path(args.config).name}, {args.split} image {sample.name}\n'
             f'teacher: {teacher_name}, student: {student_name}, {len(gt_boxes(sample))} GT boxes (green)')
    written = write_pictures(sample, masks, activities(ctx), levels, Path(args.out_dir), title,
                             args.dpi, args.palette)
    print(f'wrote {len(written)} PNGs to {args.out_dir} (summary: {written[-1]})')
    return written


if __name__ == '__main__':
    main()
