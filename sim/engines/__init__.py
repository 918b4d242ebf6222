"""The three engines that run the model's rules, with the same bits for the same seed: ``vector`` (numpy arrays
of replicates), ``compiled`` (the whole day in numba, replicates over the cores) and ``mesa_model``/``mesa_agents``
(one Mesa object per agent, for inspection and teaching)."""
