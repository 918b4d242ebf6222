"""The project's submitit launchers for Hydra (``launcher=submitit_local`` / ``submitit_slurm``): Hydra
loads launcher classes only from this namespace; the logic is in ``sim.run.launchers``."""

from hydra_plugins.hydra_submitit_launcher import submitit_launcher

from sim.run.launchers import CollectingLauncher, slurm_queue


class LocalLauncher(CollectingLauncher, submitit_launcher.LocalLauncher):
    """Jobs as local processes through submitit."""


class SlurmLauncher(CollectingLauncher, submitit_launcher.SlurmLauncher):
    """One SLURM array task per Hydra job. Besides sacct (through submitit), squeue says when a task has
    gone: that is all a cluster without accounting offers, and all SLURM leaves of a task cancelled
    while pending."""

    _queue = staticmethod(slurm_queue)
