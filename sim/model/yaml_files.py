"""Reading the project's and the user's YAML files (the record, the evidence, the targets, scenario files): a file
that is missing, unreadable or not valid YAML is one line naming the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.model.params import ParameterError


def load_yaml(path: str | Path, what: str) -> Any:
    """The parsed content of ``path`` (``what`` it is, for the message); a ParameterError of one line otherwise."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such file ({what})") from None
    except IsADirectoryError:
        raise ParameterError(f"{path} is a folder, not {what}") from None
    except OSError as exc:
        raise ParameterError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}): {what}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path} is not a text file (not UTF-8): {what}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: {yaml_problem(exc, text)} ({what})") from None


def yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """``line N, column M: what is wrong`` from PyYAML's several-line message (a tab named as such)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    if mark is not None:
        lines = text.splitlines()
        if mark.line < len(lines) and "\t" in lines[mark.line]:
            problem = f"{problem} (a tab: YAML indents with spaces only)"
    context = getattr(exc, "context", None)
    return f"{where}{problem}" + (f", {context}" if context and context not in problem else "") + ": not valid YAML"
