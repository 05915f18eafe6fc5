# Teacher selection by a bandit on NEON: of multi_teacher_yolox_neon.py's three teachers (strong
# YOLOX, its 30-epoch checkpoint, GFL), EXP3 (Auer et al. 2002) picks one per iteration to teach
# the student's neck; only that teacher runs. Reward: the relative decrease of the student's
# detection loss on its next training batch (reward='next_step'; the 'heldout' reward reads a val
# batch, which the benchmark keeps for evaluation only). gamma=0.1: the paper's exploration rate
# for a short horizon. w_<name> logs which teacher taught (window means are pick frequencies),
# teacher_reward the reward. Cost: three frozen teachers in memory, one teacher forward a step.
_base_ = './multi_teacher_yolox_neon.py'

custom_hooks = [
    dict(hook, weighting=dict(type='mmkd.FixedTeacherWeights'),
         selector=dict(type='mmkd.EXP3TeacherSelector', gamma=0.1, seed=0), reward='next_step')
    if hook.type == 'mmkd.MultiTeacherDistillationHook' else hook
    for hook in _base_.custom_hooks
]
