"""The proxy-design study's parts: what to train (`plan`), one training with its evaluation-only
levers (`train`), and the reading of what is stored (`report`)."""
