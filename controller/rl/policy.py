"""The LSTM policy that emits a search space's decision sequence autoregressively.

At step t the LSTM reads the embedding of the answer given at step t-1 (a learned start token
at t = 0) and a linear head gives logits over step t's options. Invalid options (the space's
mask) and the padding beyond a step's option count get `MASK_LOGIT` in the batched replay, a large *finite* negative
value: their probability is exactly 0 after the softmax, while the entropy stays finite (a
logit of -inf gives NaN entropy, pytorch/pytorch#40553). Sampling asserts that the chosen option
is valid. `evaluate` replays stored actions and masks in one batched pass (PPO's re-evaluation);
`sample` / `replay` walk step by step in Python floats (what a proposal's old log-probabilities
come from).

Sampling draws its uniforms from a `random.Random` (the caller's per-proposal stream), never
from torch's global generator; parameters are initialized from a generator seeded by the caller.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch
from torch import nn

from search_space import SearchSpace

MASK_LOGIT = -1.0e9  # finite: exp() underflows to exactly 0 probability, entropy stays finite


class DecisionPolicy(nn.Module):
    """1-layer LSTM (NASNet's controller) with an embedding per (step, option) and one logit per option."""

    def __init__(self, space: SearchSpace, *, hidden_size: int, embedding_size: int):
        super().__init__()
        counts = [len(step.options) for step in space.steps]
        self.space = space
        self.num_steps, self.max_options = len(counts), max(counts)
        offsets = [sum(counts[:t]) for t in range(len(counts))]
        self.step_slices = [(start, start + n) for start, n in zip(offsets, counts)]  # python ints, for `_walk`
        self.register_buffer("offsets", torch.tensor(offsets), persistent=False)
        self.register_buffer("option_counts", torch.tensor(counts), persistent=False)
        # gather index [T, O]: flat logit of option o at step t (padding points at the last option)
        grid = torch.arange(self.max_options).unsqueeze(0)  # [1, O]
        index = self.offsets.unsqueeze(1) + torch.minimum(grid, self.option_counts.unsqueeze(1) - 1)  # [T, O]
        self.register_buffer("gather_index", index, persistent=False)
        self.embed = nn.Embedding(sum(counts) + 1, embedding_size)  # token 0: start; 1 + offset + option
        self.lstm = nn.LSTM(embedding_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, sum(counts))

    def init_uniform(self, scale: float, seed: int) -> None:
        """Every parameter uniform in [-scale, scale] (NASNet A.2), from a generator seeded by `seed`."""
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for param in self.parameters():
                param.copy_((torch.rand(param.shape, generator=generator) * 2 - 1) * scale)

    def padded_masks(self, decisions: Sequence[int]) -> list[list[bool]]:
        """The space's mask of every step given the earlier decisions, padded with False to `max_options`."""
        return [self._pad(mask) for mask in self.space.masks(decisions)]

    def _pad(self, mask: Sequence[bool]) -> list[bool]:
        return list(mask) + [False] * (self.max_options - len(mask))

    def sample(self, rng: random.Random) -> tuple[tuple[int, ...], list[list[bool]], list[float]]:
        """One decision list drawn step by step; returns (actions, padded masks, log-probabilities)."""
        return self._walk(lambda t, probs: _inverse_cdf(probs, rng.random()))

    def replay(self, actions: Sequence[int]) -> tuple[tuple[int, ...], list[list[bool]], list[float]]:
        """The same walk forced along `actions` (bit-identical log-probabilities to `sample`'s)."""
        return self._walk(lambda t, probs: actions[t])

    @torch.no_grad()
    def _walk(self, choose) -> tuple[tuple[int, ...], list[list[bool]], list[float]]:
        """Step through the decisions; `choose(t, probs)` picks an option given {option: prob}.

        The recurrence is written out with matrix-vector products (the same gate order i, f, g, o
        and weights as `nn.LSTM`): a batch-1 `nn.LSTM` call per step costs several times more.
        Probabilities are computed in Python floats over the valid options only, so a masked
        option has no probability at all; the assert guards the invariant anyway.
        """
        walk = self.space.walk(())
        masks: list[list[bool]] = []
        log_probs: list[float] = []
        w_ih, w_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0  # [4H, E], [4H, H]
        bias = self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0  # [4H]
        embedding, head_w, head_b = self.embed.weight, self.head.weight, self.head.bias
        h = c = torch.zeros(self.lstm.hidden_size)  # [H]
        token = 0
        for t, (start, end) in enumerate(self.step_slices):
            gates = torch.addmv(torch.addmv(bias, w_ih, embedding[token]), w_hh, h)  # [4H]
            i, f, g, o = gates.chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits = torch.addmv(head_b[start:end], head_w[start:end], h)  # [n_t]
            mask = walk.mask()
            probs = _masked_softmax(logits.tolist(), mask)
            choice = choose(t, probs)
            assert choice in probs and mask[choice], f"policy chose masked option {choice} at step {t}"
            walk.take(choice)
            masks.append(self._pad(mask))
            log_probs.append(math.log(probs[choice]))
            token = 1 + start + choice
        return tuple(walk.decisions), masks, log_probs

    def log_distributions(self, actions: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every option [B, T, O] when replaying actions [B, T] under masks [B, T, O]."""
        batch = actions.shape[0]
        prev = (1 + self.offsets[:-1] + actions[:, :-1])  # [B, T-1]: tokens of the previous answers
        tokens = torch.cat([torch.zeros(batch, 1, dtype=torch.long), prev], dim=1)  # [B, T]
        out, _ = self.lstm(self.embed(tokens))  # [B, T, H]
        flat = self.head(out)  # [B, T, total options]
        index = self.gather_index.unsqueeze(0).expand(batch, -1, -1)  # [B, T, O]
        logits = flat.gather(2, index).masked_fill(~masks, MASK_LOGIT)  # [B, T, O]
        return torch.log_softmax(logits, dim=-1)  # [B, T, O]

    def evaluate(self, actions: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Replay stored actions [B, T] (long) under masks [B, T, O] (bool).

        Returns:
            (log-probabilities of the actions [B, T], entropies of each step's distribution [B, T]).
        """
        log_p = self.log_distributions(actions, masks)  # [B, T, O]
        taken = log_p.gather(2, actions.unsqueeze(-1)).squeeze(-1)  # [B, T]
        entropy = -(log_p.exp() * log_p).sum(-1)  # [B, T]; masked terms are 0 * finite = 0
        return taken, entropy


def _masked_softmax(logits: list[float], mask: Sequence[bool]) -> dict[int, float]:
    """{option: probability} over the valid options (softmax restricted to the mask)."""
    valid = [i for i, ok in enumerate(mask) if ok]
    top = max(logits[i] for i in valid)
    weights = {i: math.exp(logits[i] - top) for i in valid}
    total = sum(weights.values())
    return {i: w / total for i, w in weights.items()}


def _inverse_cdf(probs: dict[int, float], u: float) -> int:
    """The option whose cumulative-probability interval (in option order) holds u in [0, 1)."""
    acc = 0.0
    for i, p in probs.items():
        acc += p
        if u < acc:
            return i
    return i
