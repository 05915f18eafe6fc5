# GFL teacher (neck and head 128 channels) -> half-width GFL student (64 channels) on NEON tree crowns:
# the benchmark's second dense head, the YOLOX pair (pairs/yolox_neon.py) with GFL heads.
# What every configs/distill/*_gfl_neon.py shares: the student config, mmkd's import, the
# teacher and the loss balance. A leaf adds its `distill` entries with
#   custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=...)]
# Balance: each term fixed at 1.0x the detection loss after the first 10 iterations, the
# ratio the response and cross-head methods ship with on the YOLOX pair (chosen there on
# held-out train tiles, docs/results.md "Choosing the ratio"). Re-chosen for GFL on the same
# held-out tiles for sigmoid KD (0.1, its leaf) and BCKD (1.0 kept); CrossKD kept at 1.0:
#   python tools/benchmark.py --set select --datasets neon_gfl_holdout --jobs 2
_base_ = '../../../gfl/gfl_student_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/gfl/gfl_teacher_neon.py'
teacher_checkpoint = 'work_dirs/gfl_teacher_neon/teacher.pth'
distillation_hook = dict(
    type='mmkd.DistillationHook',
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
    balance=dict(target_ratio=1.0, iters=10))
