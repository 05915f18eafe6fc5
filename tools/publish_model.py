"""Turn a training checkpoint into a release checkpoint that plain mmdet loads.

Keeps the student's ``state_dict`` (the EMA weights when ``EMAHook`` was on,
since MMEngine saves those as ``state_dict``) and a small ``meta`` of plain
types, and drops optimizer, scheduler, message-hub and mmkd state. The result
loads with ``torch.load(weights_only=True)`` and with mmdet's ``init_detector``
and ``tools/test.py``, without mmkd installed.

    python tools/publish_model.py work_dirs/run/epoch_12.pth work_dirs/run/student.pth
"""
import argparse
import hashlib
import sys
from pathlib import Path

import torch

import mmkd  # noqa: F401  (lets torch.load read MMEngine checkpoints)

PLAIN_META_KEYS = ('epoch', 'iter', 'mmengine_version', 'time', 'dataset_meta')


def publish(src: Path, dst: Path) -> str:
    checkpoint = torch.load(str(src), map_location='cpu')
    meta = {key: checkpoint.get('meta', {})[key] for key in PLAIN_META_KEYS if key in checkpoint.get('meta', {})}
    torch.save({'state_dict': checkpoint['state_dict'], 'meta': meta}, str(dst))
    return hashlib.sha256(dst.read_bytes()).hexdigest()[:8]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='training checkpoint (epoch_N.pth)')
    parser.add_argument('dst', type=Path, help='release checkpoint to write')
    args = parser.parse_args()
    if not args.src.is_file():
        print(f'error: checkpoint {args.src} does not exist', file=sys.stderr)
        return 2
    digest = publish(args.src, args.dst)
    print(f'wrote {args.dst} (sha256 {digest})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
