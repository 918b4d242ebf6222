"""Running the model: many replicates (``simulate``), the Hydra main job (``main_job``), its config
schema, resumable sweeps (``sweep``) and atomic result storage (``storage``)."""
