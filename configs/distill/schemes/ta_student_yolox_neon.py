# Stage 2 of teacher_assistant_yolox_neon.py: the narrow student (widen 0.125, neck 32 channels) learns with
# CrossKD from the assistant, the half-width student (widen 0.25, neck 64 channels) that CrossKD trained from
# the YOLOX-s teacher (stage 1, configs/distill/crosskd_yolox_neon.py). Same entries and balance as the
# direct route, configs/distill/crosskd_yolox_narrow_neon.py; only the teacher differs.
# tools/teacher_assistant.py sets the teacher to stage 1's checkpoint; the benchmark
# (`--datasets neon_narrow`) publishes the assistant at the path below.
_base_ = '../crosskd_yolox_narrow_neon.py'

assistant_config = 'configs/yolox/yolox_student_neon.py'
assistant_checkpoint = 'work_dirs/yolox_assistant_neon/teacher.pth'
custom_hooks = [
    dict(hook, teacher=dict(config=assistant_config, checkpoint=assistant_checkpoint))
    if hook['type'] == 'mmkd.DistillationHook' else hook for hook in _base_.custom_hooks]
