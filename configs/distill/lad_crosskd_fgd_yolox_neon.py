# Label assignment, cross-head and feature distillation together on NEON tree crowns:
# lad_crosskd_yolox_neon.py (the teacher's predictions choose the student's SimOTA targets;
# CrossKD's cross-head terms at 1.0 x the detection loss) plus the FGD entry of
# _base_/methods/fgd.py on the neck at the pair's 0.3 (two method bases cannot both be
# inherited: each defines `distill`). Each ratio is the one chosen for its method alone on
# the held-out train tiles (docs/results.md, "Choosing the ratio"); none was chosen for
# the combination, which was measured once, as it stands.
_base_ = ['./lad_crosskd_yolox_neon.py']

neck_fgd = dict(name='neck_fgd', student='neck', teacher='neck', adapter='auto',
                loss=dict(type='mmkd.FGDLoss', alpha_fg=2e-3, beta_bg=1e-3, gamma_at=1e-3, lambda_global=1e-5,
                          temperature=0.5, loss_weight=1.0))
*student_hooks, crosskd_hook, assignment_hook = _base_.custom_hooks
custom_hooks = student_hooks + [
    dict(crosskd_hook, balance=dict(crosskd_hook.balance, ratios=dict(loss_neck_fgd=_base_.balance_ratio)),
         distill=crosskd_hook.distill + [neck_fgd]),
    assignment_hook]
