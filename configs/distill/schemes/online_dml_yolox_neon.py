# Online distillation (_base_/schemes/online_dml.py) on NEON tree crowns: two NEON students
# (widen 0.25, 64-channel necks) from scratch, the peer evaluated at each of the 4
# validations. Warm-up: the synthetic run's tenth (32 of 320 iterations), 20 of 200 here
# (4 epochs of 5). No loss balance: measured between two random networks in the first
# iterations, its scales would mean little. Export the peer with
# mmkd.schemes.export_peer_checkpoint('work_dirs/online_dml_yolox_neon/epoch_40.pth', 'peer.pth').
_base_ = ['../../yolox/yolox_student_neon.py', '../_base_/schemes/online_dml.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, peer=dict(config='configs/yolox/yolox_student_neon.py'),
         schedule=dict(warmup_iters=20))]
