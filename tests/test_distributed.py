"""DDP with MMEngine's launcher: 2 CPU processes, gloo, torchrun."""
import os
import subprocess
import sys

import torch
from utils import REPO


def test_two_ranks_end_with_identical_student_and_adapters(tmp_path, synth_root, teacher_checkpoint):
    command = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29533',
               str(REPO / 'tests' / 'dist_worker.py'), str(tmp_path), str(synth_root), str(teacher_checkpoint)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pth', map_location='cpu') for r in (0, 1)]
    assert ranks[0]['ddp_distiller'] == 'DistributedDataParallel'
    for part in ('student', 'distiller'):
        first, second = ranks[0][part], ranks[1][part]
        assert first.keys() == second.keys()
        for key in first:
            assert torch.equal(first[key], second[key]), f'{part}.{key} differs between ranks'
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu')
    initial = checkpoint['mmkd']['distiller']
    assert len(checkpoint['random_state']) == 2  # rank 0 saved both ranks' generator states
    assert any(not torch.equal(initial[k], ranks[0]['distiller'][k]) for k in initial)
