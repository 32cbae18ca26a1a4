"""RL controller (imports torch): an LSTM policy over the decision sequence, trained with PPO
or REINFORCE. Loaded lazily by `controller.registry` so the other controllers stay torch-free."""
