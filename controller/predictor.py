"""A learned reward predictor over architectures: scikit-learn regressors on `spec_features`.

`RewardPredictor(kind, seed)` fits (spec, reward) rows and predicts the reward of unseen specs;
`screen.py` uses it to pick which of several proposals to train. Kinds (`PREDICTORS`):

- "forest": a random forest (200 trees, leaves of at least 2 rows). Robust with few rows and no
  scaling; the default.
- "gbm": gradient-boosted trees, kept small (200 trees of depth 2, learning rate 0.05,
  80% row subsampling) so that 5-200 rows do not overfit.
- "gp": a Gaussian process, Matern(5/2) times a constant plus a white-noise kernel, on
  standardized features, targets normalized; kernel parameters fitted by maximum likelihood.

Predictions are a function of (kind, seed, rows): the same rows fitted twice give identical
numbers (every estimator runs single-threaded with `random_state=seed`).

scikit-learn (and with it numpy) is imported only when a predictor is built, so importing
`controller` stays cheap and free of numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from controller.base import ControllerError
from controller.features import spec_features
from search_space import ArchSpec

PREDICTORS = ("forest", "gbm", "gp")


class RewardPredictor:
    """Predicts an architecture's reward from the rows fitted so far (module docstring)."""

    def __init__(self, kind: str = "forest", seed: int = 0):
        if kind not in PREDICTORS:
            raise ControllerError(f"unknown predictor {kind!r}; known: {', '.join(PREDICTORS)}")
        self.kind = kind
        self.seed = int(seed)
        self.size = 0  # rows of the last fit
        self._model = None

    @property
    def fitted(self) -> bool:
        """Whether `fit` has run (predictions need it)."""
        return self._model is not None

    def _new_model(self):
        if self.kind == "forest":
            from sklearn.ensemble import RandomForestRegressor

            return RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=self.seed, n_jobs=1)
        if self.kind == "gbm":
            from sklearn.ensemble import GradientBoostingRegressor

            return GradientBoostingRegressor(n_estimators=200, max_depth=2, learning_rate=0.05, subsample=0.8,
                                             random_state=self.seed)
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        kernel = ConstantKernel(1.0) * Matern(length_scale=10.0, length_scale_bounds=(1e-2, 1e3), nu=2.5) \
            + WhiteKernel(noise_level=0.1, noise_level_bounds=(1e-6, 1e1))
        return make_pipeline(StandardScaler(),
                             GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=self.seed))

    def fit(self, specs: Sequence[ArchSpec], rewards: Sequence[float]) -> None:
        """Fit a fresh model on the rows (spec, reward); earlier fits are forgotten.

        Raises:
            ControllerError: no rows, or as many specs as rewards not given.
        """
        if len(specs) != len(rewards) or not specs:
            raise ControllerError(f"fit needs one reward per spec and at least one row; got {len(specs)} specs, "
                                  f"{len(rewards)} rewards")
        from sklearn.exceptions import ConvergenceWarning

        model = self._new_model()
        with warnings.catch_warnings():
            # the GP's noise level reaching its lower bound on noise-free rewards is expected, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit([spec_features(s) for s in specs], [float(r) for r in rewards])
        self._model = model
        self.size = len(specs)

    def predict(self, specs: Sequence[ArchSpec]) -> list[float]:
        """Predicted reward of each spec.

        Raises:
            ControllerError: called before `fit`.
        """
        if self._model is None:
            raise ControllerError("the reward predictor has not been fitted; call fit(specs, rewards) first")
        if not specs:
            return []
        return [float(v) for v in self._model.predict([spec_features(s) for s in specs])]
