"""controller: search algorithms over `search_space` decision sequences (RL, evolution, random).
It never sees a torch model, a data set or Ray; it sees decisions and rewards.

Entry point: `build_controller(name, space, seed=..., **options)`; names in `registry.CONTROLLERS`.
Importing this package imports no torch (the RL controller loads on first use).
"""

from controller.base import Controller, ControllerError, Proposal
from controller.registry import CONTROLLERS, build_controller
from controller.reward import RewardRule, shaped_reward

__all__ = ["CONTROLLERS", "Controller", "ControllerError", "Proposal", "RewardRule", "build_controller", "shaped_reward"]
