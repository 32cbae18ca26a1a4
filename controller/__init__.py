"""controller: search algorithms over `search_space` decision sequences (RL, evolution, random).
It never sees a torch model, a data set or Ray; it sees decisions and rewards.

Entry point: `build_controller(name, space, seed=..., **options)`; names in `registry.CONTROLLERS`.
`build_screened(name, space, seed, options, screen)` puts one behind a learned reward
predictor's screen (`screen.py`).
Importing this package imports no torch and no scikit-learn (the RL controller and the
predictor's estimators load on first use).
"""

from controller.base import Controller, ControllerError, Proposal
from controller.features import feature_names, spec_features
from controller.predictor import PREDICTORS, RewardPredictor
from controller.registry import CONTROLLERS, build_controller
from controller.reward import RewardRule, shaped_reward
from controller.screen import ScreenConfig, ScreenedController, build_screened, screen_config

__all__ = ["CONTROLLERS", "PREDICTORS", "Controller", "ControllerError", "Proposal", "RewardPredictor", "RewardRule",
           "ScreenConfig", "ScreenedController", "build_controller", "build_screened", "feature_names",
           "screen_config", "shaped_reward", "spec_features"]
