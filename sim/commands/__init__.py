"""What the commands do, above both the running and the analysis layers: the Hydra main job, the end of a
sweep (aggregation, then a design's analysis), the calibration's dispatch. Entry points: sim/*.py."""
