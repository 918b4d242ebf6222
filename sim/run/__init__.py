"""Running the model: many replicates (``simulate``, ``stream``), the config schema and its checks (``validate``),
resumable sweeps and their store (``sweep``), parameter sets (``uncertainty``), launchers, signals and atomic
result storage (``storage``). Imports the model and the engines, never the analysis or the commands."""
