"""Policy-gradient losses over a batch of replayed samples.

Both take per-step log-probabilities [B, T] under the current policy, the stored old
log-probabilities [B, T] (PPO only), advantages [B] and per-step entropies [B, T]. A sample's
log-probability is the sum over its steps; the entropy bonus is the mean per-sample sum.
"""

from __future__ import annotations

import torch


def reinforce_loss(log_p: torch.Tensor, advantages: torch.Tensor, entropy: torch.Tensor,
                   entropy_weight: float) -> torch.Tensor:
    """REINFORCE with a baseline (Williams 1992; Zoph & Le 2017): -E[A * log pi(a)] - w * H."""
    return -(advantages * log_p.sum(1)).mean() - entropy_weight * entropy.sum(1).mean()


def ppo_loss(log_p: torch.Tensor, old_log_p: torch.Tensor, advantages: torch.Tensor, entropy: torch.Tensor,
             entropy_weight: float, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate (Schulman et al. 2017) with a per-decision ratio.

    The ratio is taken per decision (not per 70-decision sequence, whose product leaves the clip
    range after a tiny change); each decision's term carries its sample's advantage.
    """
    ratio = torch.exp(log_p - old_log_p)  # [B, T]
    adv = advantages.unsqueeze(1)  # [B, 1]
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)  # [B, T]
    return -surrogate.sum(1).mean() - entropy_weight * entropy.sum(1).mean()
