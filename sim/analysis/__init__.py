"""From results to numbers and figures: statistics over replicates, the single-run and sweep
figures, and the ODD's generated tables."""
