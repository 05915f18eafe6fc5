#!/usr/bin/env bash
# The checks that need a GPU, as one short script (about 5-8 minutes on one GPU):
#   1. AMP training with the distillation hook, 128 iterations and a COCO evaluation (tiny YOLOX pair,
#      data/synthetic_shapes), through tools/train.py --amp; the distillation losses must stay finite;
#   2. the YOLOX-L -> YOLOX-S per-step overhead at 640 px, batch 8, without and with AMP
#      (benchmarks/overhead.py, the student step, teacher forward and distillation step side by side);
#   3. a 2-process NCCL DDP distillation run, where two GPUs exist.
# Writes $OUT/report.md (default work_dirs/gpu_check) with one row per step and the overhead tables;
# every step's log is beside it. Usage: bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-work_dirs/gpu_check}
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
STEP_LIMIT=${STEP_LIMIT:-150}
mkdir -p "$OUT"
REPORT="$OUT/report.md"

{
  echo "# mmkd GPU check ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  echo '```'
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpus', torch.cuda.device_count())"
  echo '```'
  echo
  echo '| step | result | seconds |'
  echo '|---|---|---|'
} > "$REPORT"

# step NAME COMMAND...: run with a time limit, log to $OUT/NAME.log, one report row
step() {
  local name=$1 start status
  shift
  start=$(date +%s)
  if timeout "$STEP_LIMIT" "$@" > "$OUT/$name.log" 2>&1; then status=ok; else status="FAILED (exit $?, see $name.log)"; fi
  echo "| $name | $status | $(( $(date +%s) - start )) |" >> "$REPORT"
}

# the distillation losses were logged, and every logged value is finite
FINITE_LOSSES='grep -q loss_neck_mse "$0" && ! grep -E "loss_(neck_mse|cls_kd): (nan|inf)" "$0"'

# the test configs read data/synthetic_shapes (`make data` writes it; 256 train / 64 val images)
if [ -f data/synthetic_shapes/annotations/train.json ]; then
  echo "| data | kept data/synthetic_shapes | 0 |" >> "$REPORT"
else
  step data "$PY" tools/dataset_converters/synthetic_shapes.py
fi
step teacher "$PY" tools/train.py tests/configs/yolox_tiny_teacher_synth.py --work-dir "$OUT/teacher" \
  --cfg-options train_cfg.max_epochs=1
mkdir -p work_dirs/tests && cp "$OUT/teacher/epoch_1.pth" work_dirs/tests/teacher.pth 2>/dev/null
# 256 images / batch 4 = 64 iterations an epoch: 128 AMP iterations with the hook, then COCO eval on the GPU
step amp_distill "$PY" tools/train.py tests/configs/yolox_tiny_distill_synth.py --amp --work-dir "$OUT/amp" \
  --cfg-options train_cfg.max_epochs=2 train_cfg.val_interval=2
step amp_losses_finite bash -c "$FINITE_LOSSES" "$OUT/amp_distill.log"
step overhead_fp32 "$PY" benchmarks/overhead.py --size 640 --batch 8 --device cuda
step overhead_amp "$PY" benchmarks/overhead.py --size 640 --batch 8 --device cuda --amp
if [ "$("$PY" -c 'import torch; print(torch.cuda.device_count())')" -ge 2 ]; then
  step ddp_nccl_2gpu bash tools/dist_train.sh tests/configs/yolox_tiny_distill_synth.py 2 --work-dir "$OUT/ddp" \
    --cfg-options train_cfg.max_epochs=1
else
  echo "| ddp_nccl_2gpu | skipped: one GPU | 0 |" >> "$REPORT"
fi

for phase in fp32 amp; do
  { echo; echo "## Overhead, YOLOX-L -> YOLOX-S, 640 px, batch 8, $phase"; echo '```'
    tail -n 15 "$OUT/overhead_$phase.log"; echo '```'; } >> "$REPORT"
done
cat "$REPORT"
