"""Militia cohesion and patron intervention: an agent-based model with three engines (Mesa, numpy, numba).
Layers follow the data flow, each importing only those before it: the evidence (seeds/, read by model/) ->
model/ -> engines/ -> run/ -> analysis/ (teaching/ beside it) -> commands/; the modules at this level are the
commands' entry points (python -m sim, sim.plot, sim.aggregate, ...) and the repository's paths."""

__version__ = "0.1.0"
