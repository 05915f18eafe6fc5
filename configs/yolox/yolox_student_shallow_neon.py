# Shallower YOLOX student for the NEON tree crowns (issue 14): the current student
# (yolox_student_neon.py, CSPDarknet deepen 0.33 widen 0.25) with 1 CSP block per backbone
# stage instead of 1/3/3/1 (deepen 0.1): 27 backbone convolutions instead of 35, backbone
# 0.95M parameters instead of 1.06M, the whole detector 2.14M instead of 2.24M; neck and
# head unchanged. Taught by the YOLOX-s teacher in configs/distill/crosskd_yolox_shallow_neon.py.
_base_ = './yolox_student_neon.py'

model = dict(backbone=dict(deepen_factor=0.1))
