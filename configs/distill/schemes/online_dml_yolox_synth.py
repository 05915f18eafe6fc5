# Online distillation (_base_/schemes/online_dml.py) on the synthetic shapes: two synthetic
# students (widen 0.25) from scratch; warm-up over the first 32 of 320 iterations (one epoch).
# Export the peer with mmkd.schemes.export_peer_checkpoint(
#     'work_dirs/online_dml_yolox_synth/epoch_10.pth', 'peer.pth').
_base_ = ['../../yolox/yolox_student_synth.py', '../_base_/schemes/online_dml.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, peer=dict(config='configs/yolox/yolox_student_synth.py'),
         schedule=dict(warmup_iters=32))]
