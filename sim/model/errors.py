"""The one-line error every bad input raises, and the did-you-mean hint its messages carry.
Below the declaration (params, structures), so that both can raise it; sim.model.params re-exports both."""

from __future__ import annotations

import difflib


class ParameterError(ValueError):
    """A parameter is unknown or outside its declared range (message is one line)."""


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
