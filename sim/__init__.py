"""Militia cohesion and patron intervention: an agent-based model with a Mesa and a vector engine.
See README.md for the commands and docs/ODD.md for the model description."""

__version__ = "0.1.0"
