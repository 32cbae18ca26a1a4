"""nas: the composition root — CLI verbs, Hydra config, Ray Tune search, results store,
inspection and export. The only package that imports Ray or Hydra."""
