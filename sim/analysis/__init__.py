"""From results to numbers and figures: statistics over replicates, sensitivity and discovery, the calibrations,
the single-run and sweep figures, and the ODD's generated tables. Imports the run layer, never the commands."""
