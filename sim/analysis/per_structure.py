"""The structures the per-structure analyses compare: today's and each rival alternative alone (the others at their
defaults), as (label, the parameters that select it, the Structure whose priors a draw comes from)."""

from __future__ import annotations

from sim.model.structures import Structure, single_changes


def structures() -> list[tuple[str, dict, Structure]]:
    """(label, parameters, structure) for today's structure (label ``default``, no parameters: runs are exactly
    what they were before the alternatives) and each single change."""
    return [(s.label(), {} if s.is_default else s.codes(), s) for s in single_changes()]


def prior_kw(structure: Structure) -> dict:
    """What priors.sample needs to draw from a structure's priors (nothing for today's: the same draws as before)."""
    return {} if structure.is_default else {"structure": structure}
