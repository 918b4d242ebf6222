"""The project's launchers for Hydra: the submitit ones (``launcher=submitit_local`` / ``submitit_slurm``), and
Hydra's basic and joblib launchers recording what a sweep will run before it starts (``launcher=basic`` /
``joblib``). Hydra loads launcher classes only from this namespace; the logic is in ``sim.run.launchers``."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher as HydraBasicLauncher
from hydra._internal.core_plugins.basic_launcher import BasicLauncherConf
from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher as HydraJoblibLauncher
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf

from sim.run.launchers import CollectingLauncher, record_plan, slurm_queue


class BasicLauncher(HydraBasicLauncher):
    """Hydra's basic launcher (jobs one after another in this process), recording the sweep's plan first."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Any:
        record_plan(self, job_overrides, initial_job_idx, "basic")
        return super().launch(job_overrides, initial_job_idx)


class JoblibLauncher(HydraJoblibLauncher):
    """Hydra's joblib launcher (jobs in parallel local processes), recording the sweep's plan first."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Any:
        record_plan(self, job_overrides, initial_job_idx, "joblib")
        try:
            return super().launch(job_overrides, initial_job_idx)
        except KeyboardInterrupt as exc:  # Ctrl-C reached the workers too: each keeps its finished points
            if not getattr(exc, "note", ""):
                exc.note = (f"the sweep's jobs were stopped; every finished point is kept in "
                            f"{self.config.hydra.sweep.dir}: run the same command again to run only the missing ones")
            raise


class LocalLauncher(CollectingLauncher, submitit_launcher.LocalLauncher):
    """Jobs as local processes through submitit."""


class SlurmLauncher(CollectingLauncher, submitit_launcher.SlurmLauncher):
    """One SLURM array task per Hydra job. Besides sacct (through submitit), squeue says when a task has
    gone: that is all a cluster without accounting offers, and all SLURM leaves of a task cancelled
    while pending."""

    _queue = staticmethod(slurm_queue)


# The stock schemas plus the project's own option (Hydra's structured configs refuse unknown keys).
@dataclass
class SimSlurmQueueConf(SlurmQueueConf):
    _target_: str = "hydra_plugins.sim_launchers.SlurmLauncher"
    detach: bool = False  # true: submit, write the manifest, return at once (python -m sim.status reports)
    # how a task starts python (submitit's own option), e.g. "nice -n 10 /path/to/python" for a sweep that
    # yields the CPUs to others: slurmd starts a task at its own priority, not the submitter's; None: this python
    python: str | None = None


@dataclass
class SimLocalQueueConf(LocalQueueConf):
    _target_: str = "hydra_plugins.sim_launchers.LocalLauncher"
    detach: bool = False
    python: str | None = None


@dataclass
class SimBasicLauncherConf(BasicLauncherConf):
    _target_: str = "hydra_plugins.sim_launchers.BasicLauncher"


@dataclass
class SimJoblibLauncherConf(JobLibLauncherConf):
    _target_: str = "hydra_plugins.sim_launchers.JoblibLauncher"


ConfigStore.instance().store(group="hydra/launcher", name="sim_basic", node=SimBasicLauncherConf,
                             provider="sim_launchers")  # fmt: skip
ConfigStore.instance().store(group="hydra/launcher", name="sim_joblib", node=SimJoblibLauncherConf,
                             provider="sim_launchers")  # fmt: skip
ConfigStore.instance().store(group="hydra/launcher", name="sim_submitit_slurm", node=SimSlurmQueueConf,
                             provider="sim_launchers")  # fmt: skip
ConfigStore.instance().store(group="hydra/launcher", name="sim_submitit_local", node=SimLocalQueueConf,
                             provider="sim_launchers")  # fmt: skip
