#!/usr/bin/env bash
# The checks that need a GPU, as one short script (about 5-8 minutes on one GPU):
#   1. AMP training with the distillation hook for a few dozen iterations (tiny YOLOX pair,
#      synthetic data), through tools/train.py --amp; the distillation losses must stay finite;
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
DATA=data/gpu_check_shapes/

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

# finite_losses LOG: the distillation losses were logged and every logged value is finite
finite_losses() {
  grep -q 'loss_neck_mse' "$1" && ! grep -E 'loss_(neck_mse|cls_kd): (nan|inf)' "$1"
}

distill_args=(--cfg-options "train_dataloader.dataset.data_root=$DATA" "val_dataloader.dataset.data_root=$DATA"
              "test_dataloader.dataset.data_root=$DATA" "val_evaluator.ann_file=${DATA}annotations/val.json"
              "test_evaluator.ann_file=${DATA}annotations/val.json")

step data "$PY" tools/dataset_converters/synthetic_shapes.py --out "$DATA" --num-train 96 --num-val 16
step teacher "$PY" tools/train.py tests/configs/yolox_tiny_teacher_synth.py --work-dir "$OUT/teacher" \
  "${distill_args[@]}" train_cfg.max_epochs=1
mkdir -p work_dirs/tests && cp "$OUT/teacher/epoch_1.pth" work_dirs/tests/teacher.pth 2>/dev/null
# 96 images / batch 4 = 24 iterations an epoch: 48 AMP iterations with the hook
step amp_distill "$PY" tools/train.py tests/configs/yolox_tiny_distill_synth.py --amp --work-dir "$OUT/amp" \
  "${distill_args[@]}" train_cfg.max_epochs=2
step amp_losses_finite finite_losses "$OUT/amp_distill.log"
step overhead_fp32 "$PY" benchmarks/overhead.py --size 640 --batch 8 --device cuda
step overhead_amp "$PY" benchmarks/overhead.py --size 640 --batch 8 --device cuda --amp
if [ "$("$PY" -c 'import torch; print(torch.cuda.device_count())')" -ge 2 ]; then
  step ddp_nccl_2gpu bash tools/dist_train.sh tests/configs/yolox_tiny_distill_synth.py 2 --work-dir "$OUT/ddp" \
    "${distill_args[@]}" train_cfg.max_epochs=1
else
  echo "| ddp_nccl_2gpu | skipped: one GPU | 0 |" >> "$REPORT"
fi

for phase in fp32 amp; do
  { echo; echo "## Overhead, YOLOX-L -> YOLOX-S, 640 px, batch 8, $phase"; echo '```'
    tail -n 15 "$OUT/overhead_$phase.log"; echo '```'; } >> "$REPORT"
done
cat "$REPORT"
