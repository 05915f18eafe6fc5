"""Element-wise response distillation terms (no reduction over priors)."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..functional import kl_from_log_probs


def binary_kd(student_logits: Tensor, teacher_logits: Tensor, temperature: float,
              beta: Optional[float] = None) -> Tensor:
    r"""Per-element binary KD between sigmoid outputs.

    .. math::
        \ell = T^2 \, |q - \sigma(z_S/T)|^{\beta}\,
               \mathrm{BCE}\big(\sigma(z_S/T),\ q\big), \quad q = \sigma(z_T/T)

    The focal factor ``|q - p|^beta`` (quality focal loss, Li et al., GFL,
    NeurIPS 2020) is left out when ``beta`` is ``None``.

    Returns:
        Tensor: the loss, shaped like the inputs.
    """
    student_logits = student_logits / temperature
    target = (teacher_logits / temperature).sigmoid()
    loss = F.binary_cross_entropy_with_logits(student_logits, target, reduction='none')
    if beta is not None:
        loss = loss * (target - student_logits.sigmoid()).abs().pow(beta)
    return loss * temperature**2


def dkd_terms(student_logits: Tensor, teacher_logits: Tensor, target: Tensor,
              temperature: float) -> Tuple[Tensor, Tensor]:
    r"""TCKD and NCKD of Decoupled KD (Zhao et al., CVPR 2022), times ``T^2``.

    With ``p = softmax(z/T)`` over ``C`` classes and target class ``t``:

    .. math::
        \mathrm{TCKD} = \mathrm{KL}\big([p^T_t, 1-p^T_t]\ \|\ [p^S_t, 1-p^S_t]\big),
        \qquad
        \mathrm{NCKD} = \mathrm{KL}(\hat p^T \| \hat p^S),\ \
        \hat p_i = \frac{p_i}{1 - p_t}\ (i \ne t)

    so that ``KD = TCKD + (1 - p^T_t) NCKD``.

    Args:
        student_logits: ``(..., C)`` logits, ``C >= 2``.
        teacher_logits: ``(..., C)`` logits.
        target: ``(...)`` target class of each row.
        temperature: softmax temperature ``T``.

    Returns:
        tuple: ``(tckd, nckd)``, each shaped like ``target``.
    """
    is_target = torch.zeros_like(student_logits, dtype=torch.bool).scatter_(-1, target[..., None], True)
    t_binary, t_others = _decouple(teacher_logits / temperature, target, is_target)
    s_binary, s_others = _decouple(student_logits / temperature, target, is_target)
    scale = temperature**2
    return kl_from_log_probs(t_binary, s_binary) * scale, kl_from_log_probs(t_others, s_others) * scale


def _decouple(logits: Tensor, target: Tensor, is_target: Tensor) -> Tuple[Tensor, Tensor]:
    """``(..., 2)`` log-probabilities of ``[target, not target]`` and ``(..., C)``
    log-probabilities renormalised over the non-target classes.

    The target column of the second holds 0 rather than ``-inf`` so that
    :func:`kl_from_log_probs` gets a zero term there (``1 * (0 - 0)``); dense
    masking instead of gathering the ``C - 1`` other columns keeps it fast.
    """
    log_probs = F.log_softmax(logits, -1)
    log_target = log_probs.gather(-1, target[..., None])[..., 0]
    log_rest = log_probs.masked_fill(is_target, float('-inf')).logsumexp(-1)
    others = (log_probs - log_rest[..., None]).masked_fill(is_target, 0.0)
    return torch.stack([log_target, log_rest], -1), others
