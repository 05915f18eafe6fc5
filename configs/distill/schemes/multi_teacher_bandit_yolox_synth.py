# Teacher selection by a bandit: of a YOLOX-s, a YOLOX-m and an RTMDet-tiny
# teacher, EXP3 (Auer et al. 2002) picks one per iteration to teach the
# student's neck; only that teacher runs. The pick is rewarded by the
# relative decrease of the student's detection loss on a fixed val batch
# across the update (reward='heldout': one extra no-grad student forward per
# iteration; reward='next_step' is free but noisier). The selector's state
# is saved and resumed; w_<name> logs which teacher taught.
# Cost: three frozen teachers in memory, one teacher forward per step.
_base_ = './multi_teacher_yolox_synth.py'

teachers = _base_.teachers + [
    dict(name='yolox_m', config='configs/distill/schemes/models/yolox_m_synth.py',
         checkpoint='work_dirs/yolox_m_synth/epoch_10.pth'),
]
custom_hooks = [
    dict(hook, teachers=teachers, weighting=dict(type='mmkd.FixedTeacherWeights'),
         selector=dict(type='mmkd.EXP3TeacherSelector', gamma=0.1, seed=0), reward='heldout')
    if hook.type == 'mmkd.MultiTeacherDistillationHook' else hook
    for hook in _base_.custom_hooks
]
