"""Cheap estimates of an architecture's proxy reward, computed without training."""
