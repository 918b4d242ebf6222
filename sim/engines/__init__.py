"""The two engines that run the model's rules: ``vector`` (numpy arrays of replicates, for sweeps)
and ``mesa_model``/``mesa_agents`` (one Mesa object per agent, for inspection and teaching)."""
