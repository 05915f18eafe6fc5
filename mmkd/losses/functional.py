"""Divergences shared by every loss family (element-wise, no reduction)."""
import torch.nn.functional as F
from torch import Tensor


def kl_from_log_probs(teacher_log_probs: Tensor, student_log_probs: Tensor) -> Tensor:
    r"""``KL(p_T || p_S) = sum_i p_T,i (log p_T,i - log p_S,i)`` over the last dim."""
    return (teacher_log_probs.exp() * (teacher_log_probs - student_log_probs)).sum(-1)


def softmax_kd(student_logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    r"""``T^2 KL(softmax(z_T/T) || softmax(z_S/T))`` over the last dim (Hinton et al., 2015).

    The softmax-KL of every loss that has one: KD over class channels, CWD over
    a channel's locations, LD over an edge's distribution.
    """
    return kl_from_log_probs(F.log_softmax(teacher_logits / temperature, -1),
                             F.log_softmax(student_logits / temperature, -1)) * temperature**2
