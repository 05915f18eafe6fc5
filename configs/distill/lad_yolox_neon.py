# Label assignment distillation (LAD) on NEON tree crowns: the YOLOX teacher's predictions choose the
# half-width student's positive priors in SimOTA; the student's losses stay its own. No loss weight.
# mmkd/hooks/teacher_assignment_hook.py; docs/response_kd.md (Label assignment distillation).
_base_ = ['./_base_/pairs/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.TeacherAssignmentHook',
         teacher=dict(config=_base_.teacher_config, checkpoint=_base_.teacher_checkpoint))]
