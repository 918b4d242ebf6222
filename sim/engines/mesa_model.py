"""The Mesa engine: one object per agent, staged simultaneous activation, a DataCollector.
For the same seed, replicate and parameters it gives exactly the vector core's result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np

from sim.engines.mesa_agents import MilitiaCell, MilitiaLeader, Patron, PrimeMinister, SadrBloc, Stance
from sim.model import keyed_random as kr
from sim.model import rules
from sim.model.events import apply_events
from sim.model.outcomes import DAILY_COLUMNS, MILITIA_DAILY, accumulate, daily_record, empty_sums, run_record
from sim.model.params import MILITIAS, make_militias, make_params
from sim.model.scenario import Scenario, load_scenario
from sim.model.state import FAR_PAST, NO_DAY, State, point_arrays


class MilitiaModel(mesa.Model):
    """Militia cohesion and patron intervention, one replicate.

    Keyword-only, so ``mesa.batch_run`` can sweep any declared parameter:
    ``MilitiaModel(scenario="seed_timeline", seed=1, replicate=0, patron_influence=0.9)``.
    Each day runs MODEL.md's eight steps as phases; inside a phase every agent reads what the
    previous phases committed and writes only its own state, and agents are shuffled each phase
    to show that their order cannot change a result."""

    def __init__(
        self,
        *,
        scenario: str | Scenario = "seed_timeline",
        seed: int = 0,
        replicate: int = 0,
        militias: Mapping[str, Mapping[str, Any]] | None = None,
        shuffle_seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        # mesa's own rng only shuffles activation order; the rules draw from keyed_random.
        super().__init__(seed=seed if shuffle_seed is None else shuffle_seed)
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.p = make_params(kwargs)  # every declared parameter, validated (named **kwargs for SolaraViz)
        self.militia_table = make_militias(militias)
        self.pt = point_arrays([self.p], [self.militia_table])
        self.seed_value, self.replicate = int(seed), int(replicate)
        self._rep_key = kr.replicate_key(self.seed_value, self.replicate)
        self.day = 0
        self.running = True

        self.patron = Patron(self)
        self.pm = PrimeMinister(self)
        self.sadr = SadrBloc(self)
        self.leaders = [MilitiaLeader(self, j, spec) for j, spec in enumerate(self.militia_table)]
        for ld in self.leaders:
            ld.cells = [MilitiaCell(self, ld, k) for k in range(self.p.cells_per_militia)]

        # the house: model-level state shared by the camps
        self.rivalry = np.float64(self.p.rivalry_base)
        self.tension = rules.tension(0.0, self.sadr.mobilisation, self.rivalry, *self._weights())
        self.hazard = np.float64(0.0)
        self.clash = False
        self.salient = False
        self.truce = np.float64(0.0)
        self.attacks_us_today = 0
        self.forced_intervention = False
        self.attacks_today = 0
        self.clash_days: list[int] = []
        self.clashes = 0
        self.escalated = False
        self.escalation_day = NO_DAY
        self.sustained = False
        self.sustained_day = NO_DAY
        self.violence = np.float64(0.0)
        self.first_clash_day = NO_DAY
        self._sums = empty_sums(1)
        self.record: dict[str, np.ndarray] = {}

        reporters = {name: (lambda m, name=name: m.record.get(name, np.zeros(1))[0].item()) for name in self._names()}
        # Agent reporters for Mesa's own tools: each militia leader's state at the end of the day (the same values
        # as the model reporters' <name>_<j> columns), as plain Python values.
        leader_reporters = {"militia": "key", "grievance": lambda a: float(a.grievance),
                            "discipline": lambda a: float(a.discipline), "stance": lambda a: a.stance.value,
                            "share_active": lambda a: float(a.share)}  # fmt: skip
        self.datacollector = mesa.DataCollector(model_reporters=reporters,
                                                agenttype_reporters={MilitiaLeader: leader_reporters})  # fmt: skip

    @staticmethod
    def _names() -> list[str]:
        return list(DAILY_COLUMNS) + [f"{n}_{j}" for n in MILITIA_DAILY for j in range(len(MILITIAS))]

    # ------------------------------------------------------------------ helpers
    def _weights(self) -> tuple:
        p = self.p
        return p.tension_weight_violence, p.tension_weight_mobilisation, p.tension_weight_rivalry

    def draw(self, purpose: kr.Purpose, uid) -> np.ndarray:
        """This agent's keyed uniform for today: (seed, replicate, day, agent, purpose)."""
        return kr.uniform_from_key(kr.step_key(self._rep_key, self.day, purpose), uid)

    @property
    def cells(self):
        return self.agents_by_type[MilitiaCell]

    def gather_state(self) -> State:
        """The agents' state as a one-replicate State (for events and the shared record)."""
        L = self.leaders

        def col(attr, dtype=np.float64):
            return np.array([getattr(ld, attr) for ld in L], dtype=dtype).reshape(1, -1, 1)

        def one(value, dtype=np.float64):
            return np.array(value, dtype=dtype).reshape(1, 1, 1)

        active = np.array([[c.active for c in ld.cells] for ld in L], dtype=bool)[None]
        ring = np.full((1, 1, 1), FAR_PAST, dtype=np.int64)
        return State(
            attention=one(self.patron.attention), cooldown=one(self.patron.cooldown, np.int64),
            interventions=one(self.patron.interventions, np.int64), intervened=one(self.patron.intervened, bool),
            grievance=col("grievance"), discipline=col("discipline"), independence=col("independence"),
            hostility_us=col("hostility_us"), pressure=col("pressure"), contests=col("contests", bool),
            hardship=col("hardship"), legitimacy=col("legitimacy"), calm=col("calm"),
            restraint=col("restraint"),
            share=col("share"), order_days=col("order_days", np.int64), attacks_state=col("attacks_state", np.int64),
            attacks_us=col("attacks_us", np.int64), retaliations=col("retaliations", np.int64),
            targeted=self.patron.targets.reshape(1, -1, 1).copy(),
            offset=np.zeros_like(active, dtype=np.float64), risk=np.zeros_like(active, dtype=np.float64), active=active,
            sadr_grievance=one(self.sadr.grievance), participating=one(self.sadr.participating, bool),
            commitment=one(self.sadr.commitment), sadr_stake=one(self.sadr.stake), sadr_u_walk=one(self.sadr.u_walk),
            sadr_u_return=one(self.sadr.u_return), boycott_clash_days=one(self.sadr.boycott_clash_days, np.int64),
            mobilisation=one(self.sadr.mobilisation), boycott_days=one(self.sadr.boycott_days, np.int64),
            boycott_ended=one(self.sadr.boycott_ended, bool),
            sadr_order_days=one(self.sadr.order_days, np.int64), capacity=one(self.pm.capacity),
            truce=one(self.truce), attacks_us_today=one(self.attacks_us_today, np.int64),
            rivalry=one(self.rivalry), tension=one(self.tension), hazard=one(self.hazard),
            salient=one(self.salient, bool),
            forced_intervention=one(self.forced_intervention, bool), clash=one(self.clash, bool), clash_ring=ring,
            clashes=one(self.clashes, np.int64), escalated=one(self.escalated, bool),
            escalation_day=one(self.escalation_day, np.int64), sustained=one(self.sustained, bool),
            sustained_day=one(self.sustained_day, np.int64), first_clash_day=one(self.first_clash_day, np.int64),
        )  # fmt: skip

    def _scatter_event_state(self, s: State) -> None:
        """Write back what events may change (see sim.events)."""
        self.patron.attention = s.attention[0, 0, 0]
        for j, ld in enumerate(self.leaders):
            ld.grievance, ld.discipline = s.grievance[0, j, 0], s.discipline[0, j, 0]
            ld.independence, ld.hostility_us = s.independence[0, j, 0], s.hostility_us[0, j, 0]
            ld.hardship, ld.legitimacy = s.hardship[0, j, 0], s.legitimacy[0, j, 0]
            ld.order_days, ld.attacks_state = s.order_days[0, j, 0], s.attacks_state[0, j, 0]
            ld.attacks_us = s.attacks_us[0, j, 0]
        self.sadr.grievance, self.sadr.mobilisation = s.sadr_grievance[0, 0, 0], s.mobilisation[0, 0, 0]
        self.sadr.participating = bool(s.participating[0, 0, 0])
        self.sadr.commitment, self.sadr.stake = s.commitment[0, 0, 0], s.sadr_stake[0, 0, 0]
        self.sadr.order_days = s.sadr_order_days[0, 0, 0]
        self.pm.capacity, self.rivalry = s.capacity[0, 0, 0], s.rivalry[0, 0, 0]
        self.salient = bool(s.salient[0, 0, 0])
        self.truce = s.truce[0, 0, 0]
        self.forced_intervention = bool(s.forced_intervention[0, 0, 0])

    def _phase(self, agents, *methods: str) -> None:
        for method in methods:
            agents.shuffle_do(method)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """One day: MODEL.md steps 1-8, each a staged phase. After the scenario's last day, nothing."""
        if not self.running:  # past the last day (the app's Step and play may ask for more)
            self.steps -= 1  # Mesa's wrapper counted a step before calling this one: un-count it
            return
        t = self.day
        leaders = self.agents_by_type[MilitiaLeader]
        # 1. scenario events (exogenous: applied by the model through the shared event rules)
        todays = self.scenario.events_on(t)
        if todays:
            s = self.gather_state()
            apply_events(s, todays, self.pt, self.militia_table)
            self._scatter_event_state(s)
        # 2. patron decides, targeted leaders take the message
        self.patron.decide()
        self._phase(leaders, "receive_patron")
        # 3. leaders choose a stance
        self._phase(leaders, "choose_stance")
        # 4. cells act (stage, then advance: simultaneous), leaders count them
        self._phase(self.cells, "decide", "advance")
        self._phase(leaders, "count_cells")
        # 5. attacks and US retaliation
        self._phase(leaders, "act")
        self.attacks_today = int(sum(ld.attacked_state_today for ld in self.leaders))
        self.attacks_us_today = int(sum(ld.attacked_us_today for ld in self.leaders))
        self._phase(leaders, "read_attacks")
        # 6. Sadr's bloc reacts to today's attacks, refusals, violence and rivalry
        self.rivalry = rules.after_attacks(self.rivalry, self.attacks_today, self.p.attack_rivalry)
        active = np.array([[c.active for c in ld.cells] for ld in self.leaders], dtype=bool)[None]
        self.violence = v = rules.camp_violence(active)[0, 0, 0]
        self.sadr.react()
        # 7. clash between the camps, and the severity ladder
        if self.p.structure_clash == 0:
            self.hazard = rules.clash_hazard(self.p.clash_kappa, v, self.sadr.mobilisation)
        else:  # Epstein's Model II: the camps meet, the state's forces interpose
            self.hazard = rules.clash_hazard_interposed(self.p.encounter_rate, v, self.sadr.mobilisation,
                                                        self.p.arrest_k, self.pm.capacity,
                                                        self.p.cells_per_militia)  # fmt: skip
        self.clash = bool(self.draw(kr.Purpose.CLASH, kr.PATRON_UID) < self.hazard)
        self.rivalry = rules.after_clash(self.rivalry, self.clash, self.p.clash_rivalry)
        self._phase(leaders, "suffer_clash")
        self.sadr.suffer_clash()
        if self.clash:
            self.clashes += 1
            self.clash_days.append(t)
            if self.first_clash_day == NO_DAY:
                self.first_clash_day = t
        ago = t - np.array(self.clash_days, dtype=np.int64)
        if not self.escalated and rules.clashes_within(ago, self.p.escalation_window, self.p.escalation_clashes):
            self.escalated, self.escalation_day = True, t
        if not self.sustained and rules.clashes_within(ago, self.p.sustained_window, self.p.sustained_clashes):
            self.sustained, self.sustained_day = True, t
        # 8. drift
        self._phase(leaders, "drift")
        self.sadr.drift()
        self.rivalry = rules.relax(self.rivalry, self.p.rivalry_base, self.p.rivalry_half_life)
        # the house's reading for tomorrow
        self.tension = rules.tension(v, self.sadr.mobilisation, self.rivalry, *self._weights())
        self.salient = self.attacks_today > 0
        self.forced_intervention = False

        self.record = daily_record(self.gather_state(), np.array(self.attacks_today).reshape(1, 1, 1))
        accumulate(self._sums, self.record)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.scenario.days:
            self.running = False

    # ------------------------------------------------------------------ results
    @property
    def date(self):
        """Calendar date of the next day to simulate (the last simulated day once finished)."""
        return self.scenario.date_of(min(self.day, self.scenario.days - 1))

    def run_record(self) -> dict[str, Any]:
        """Per-run outcomes, the same columns as the vector core's runs table."""
        rec = run_record(self.gather_state(), self._sums, max(self.day, 1), self.militia_table)
        return {k: np.asarray(v)[0].item() for k, v in rec.items()}

    def stance_of(self, key: str) -> Stance:
        return next(ld.stance for ld in self.leaders if ld.key == key)
