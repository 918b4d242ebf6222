"""Where the repository's inputs and outputs live, found from this package (an editable install).
Every module that reads configs/, seeds/ or docs/ takes its path from here."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
SCENARIO_DIR = CONFIG_DIR / "scenario"
SEEDS_DIR = REPO_ROOT / "seeds"
DOCS_DIR = REPO_ROOT / "docs"
RESULTS_DIR = REPO_ROOT / "results"
