"""The Mesa model's agent reporters (for Mesa's own tools): each militia leader's grievance, discipline, stance
and share of active cells, every day, equal to the model reporters' per-militia columns of the same run."""

from __future__ import annotations

import numpy as np

from sim.engines.mesa_agents import MilitiaLeader
from sim.engines.mesa_model import MilitiaModel
from sim.model.params import MILITIAS


def test_leader_reporters_match_the_model_record_every_day():
    model = MilitiaModel(scenario="attack_and_intervention", seed=3, replicate=2, militia_independence=0.9)
    while model.running:
        model.step()
    leaders = model.datacollector.get_agenttype_vars_dataframe(MilitiaLeader).reset_index()
    days = model.datacollector.get_model_vars_dataframe()
    assert len(leaders) == len(days) * len(MILITIAS)
    assert set(leaders["stance"]) <= {"contest", "restrain"} and leaders["stance"].nunique() == 2  # both occur
    for j, m in enumerate(MILITIAS):
        mine = leaders[leaders["militia"] == m.key].sort_values("Step")
        np.testing.assert_array_equal(mine["grievance"].to_numpy(), days[f"grievance_{j}"].to_numpy())
        np.testing.assert_array_equal(mine["discipline"].to_numpy(), days[f"discipline_{j}"].to_numpy())
        np.testing.assert_array_equal(mine["share_active"].to_numpy(), days[f"share_{j}"].to_numpy())
        np.testing.assert_array_equal((mine["stance"] == "contest").to_numpy(), days[f"contests_{j}"].to_numpy())
