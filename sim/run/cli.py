"""The commands' argument parser: an error is one line naming the command (``python -m sim.x``, never the file),
and an option given twice is refused with both values instead of the last silently winning."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn


class _Once(argparse.Action):
    """Store an option's value, refusing a second one (argparse would keep the last)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        seen = namespace.__dict__.setdefault("_given", {})
        if self.dest in seen:
            first = _shown(seen[self.dest])
            parser.error(f"{option_string} is given twice ({first} and {_shown(values)}): give it once")
        seen[self.dest] = values
        setattr(namespace, self.dest, values)


class _OnceTrue(argparse.Action):
    """A switch (store_true) that may be given once."""

    def __init__(self, option_strings: list[str], dest: str, default: bool = False, required: bool = False,
                 help: str | None = None) -> None:  # fmt: skip
        super().__init__(option_strings, dest, nargs=0, const=True, default=default, required=required, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        seen = namespace.__dict__.setdefault("_given", {})
        if self.dest in seen:
            parser.error(f"{option_string} is given twice: give it once")
        seen[self.dest] = True
        setattr(namespace, self.dest, True)


def _shown(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


class CommandParser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: <message> (python -m sim.x --help lists the options)``, status 2)
    and every plain option or switch refusing a second value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)
        self.register("action", "store_true", _OnceTrue)

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        print(f"error: {text} ({self.prog} --help lists the options)", file=sys.stderr)
        raise SystemExit(2)

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        parsed = super().parse_args(args, namespace)
        parsed.__dict__.pop("_given", None)
        return parsed

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        parsed.__dict__.pop("_given", None)
        return parsed, rest


# sim.run.simulate.BATCH_ENGINES, compiled first (the studies' default), declared here so that a study's --help
# and its argument errors need no numpy or pandas (tests/test_startup.py checks that they are the same engines)
STUDY_ENGINES = ("compiled", "vector")
STUDY_SEED = 20211107  # the main job's default seed (configs/config.yaml), as each study's own SEED


def add_study_options(ap: argparse.ArgumentParser, writes: str) -> None:
    """The options every published study's command shares (sim.counterfactuals, sim.long_run, sim.patron_effect):
    ``--seed``, ``--engine`` (a batch engine; compiled and vector give the same bits) and ``--no-write`` (print
    only; ``writes`` says what it would otherwise write)."""
    ap.add_argument("--seed", type=int, default=STUDY_SEED)
    ap.add_argument("--engine", choices=STUDY_ENGINES, default=STUDY_ENGINES[0],
                    help=f"batch engine ({STUDY_ENGINES[0]}; the same bits as {STUDY_ENGINES[1]})")  # fmt: skip
    ap.add_argument("--no-write", action="store_true", help=f"print only; do not write {writes}")
