"""Militia cohesion and patron intervention: an agent-based model with a Mesa and a vector engine.
Layers follow the data flow: model/ -> engines/ -> run/ -> analysis/, with teaching/ beside them;
the modules at this level are the commands (python -m sim, sim.plot, sim.aggregate, ...)."""

__version__ = "0.1.0"
