"""The project's submitit launchers for Hydra (``launcher=submitit_local`` / ``submitit_slurm``): Hydra
loads launcher classes only from this namespace; the logic is in ``sim.run.launchers``."""

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf

from sim.run.launchers import CollectingLauncher, slurm_queue


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


@dataclass
class SimLocalQueueConf(LocalQueueConf):
    _target_: str = "hydra_plugins.sim_launchers.LocalLauncher"
    detach: bool = False


ConfigStore.instance().store(group="hydra/launcher", name="sim_submitit_slurm", node=SimSlurmQueueConf,
                             provider="sim_launchers")  # fmt: skip
ConfigStore.instance().store(group="hydra/launcher", name="sim_submitit_local", node=SimLocalQueueConf,
                             provider="sim_launchers")  # fmt: skip
