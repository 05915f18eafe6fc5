# An early checkpoint of the NEON teacher: configs/yolox/yolox_teacher_neon.py (YOLOX-s, the
# same recipe and 300-epoch learning-rate schedule) stopped after 30 of its 300 epochs, while the
# learning rate is still high and before the no-augmentation phase. The weak teacher of the
# multi-teacher configs on NEON (multi_teacher_*_yolox_neon.py): teachers of different quality
# for a policy to tell apart. Trained once by tools/benchmark.py (its record and weights are
# benchmarks/results/neon/yolox_teacher_early_neon/seed0.*).
_base_ = '../../../yolox/yolox_teacher_neon.py'

train_cfg = dict(max_epochs=30)
