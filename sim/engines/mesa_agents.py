"""Mesa agents: the patron, the militia leaders and their cells, Sadr's bloc and the prime minister.
Each agent holds its own state and calls the shared rules in sim.model.rules on its own scalars."""

from __future__ import annotations

from enum import Enum
from typing import Any, Protocol

import mesa
import numpy as np

from sim.model import keyed_random as kr
from sim.model import rules
from sim.model.params import Militia
from sim.model.state import cell_traits, initial_mobilisation, sadr_traits


class World(Protocol):
    """What the agents read from their model (sim.engines.mesa_model.MilitiaModel provides it).
    A protocol rather than an import, so this module does not depend on the model that builds it."""

    p: Any
    seed_value: int
    replicate: int
    militia_table: tuple[Militia, ...]
    leaders: list[MilitiaLeader]
    patron: Patron
    sadr: SadrBloc
    pm: PrimeMinister
    tension: Any
    salient: bool
    forced_intervention: bool
    attacks_today: int
    violence: Any
    rivalry: Any
    clash: bool

    def draw(self, purpose: kr.Purpose, uid: Any) -> np.ndarray: ...


class Stance(Enum):
    RESTRAIN = "restrain"
    CONTEST = "contest"


class Patron(mesa.Agent):
    """The IRGC / Quds Force: decides whether to intervene and on which militias (MODEL.md step 2)."""

    model: World
    uid = kr.PATRON_UID

    def __init__(self, model: World) -> None:
        super().__init__(model)
        self.attention = np.float64(model.p.patron_attention_initial)
        self.cooldown = np.int64(0)
        self.interventions = np.int64(0)
        self.intervened = False
        self.targets = np.zeros(len(model.militia_table), dtype=bool)

    def decide(self) -> None:
        m, p = self.model, self.model.p
        leaders = m.leaders
        intervened = bool(
            rules.patron_decides(
                p.patron_present,
                p.patron_intervenes,
                self.attention,
                self.cooldown,
                m.tension,
                m.salient,
                m.forced_intervention,
                p.patron_trigger,
                p.patron_attention_cost,
            )
        )
        score = np.array([rules.militia_score(ld.share, ld.grievance) for ld in leaders])
        self.targets = intervened & rules.target_mask(score, p.patron_targets, axis=0)
        self.attention = rules.attention_after(
            self.attention, intervened, p.patron_attention_cost, p.patron_attention_recovery, p.patron_distraction
        )
        self.cooldown = rules.cooldown_after(self.cooldown, intervened, p.patron_cooldown)
        self.interventions = self.interventions + intervened
        self.intervened = intervened


class MilitiaLeader(mesa.Agent):
    """A militia's leadership (Amiri, Khazali, ...): grievance, discipline, independence, stance."""

    model: World

    def __init__(self, model: World, index: int, spec: Militia) -> None:
        super().__init__(model)
        p = model.p
        self.index, self.spec, self.key = index, spec, spec.key
        self.uid = kr.leader_uid(index)
        self.grievance = np.float64(spec.grievance)
        self.discipline = np.float64(spec.discipline)
        self.independence = rules.independence(p.militia_independence, np.float64(spec.independence_offset))
        self.hostility_us = np.float64(spec.hostility_us)
        self.pressure = np.float64(0.0)
        self.hardship = np.float64(spec.grievance)  # structure.grievance=legitimacy: Epstein's H and L
        self.legitimacy = np.float64(p.legitimacy_base)
        self.calm = np.float64(0.0)  # structure.relapse=beardsley: the calm resting on a visit's pressure
        self.stance = Stance.RESTRAIN
        self.restraint = np.float64(spec.discipline)  # what its cells feel: restraint, relayed (7.7)
        self.share = np.float64(0.0)
        self.order_days = np.int64(0)
        self.attacks_state = np.int64(0)
        self.attacks_us = np.int64(0)
        self.retaliations = np.int64(0)
        self.attacked_state_today = False
        self.attacked_us_today = False
        self.cells: list[MilitiaCell] = []

    @property
    def contests(self) -> bool:
        return self.stance is Stance.CONTEST

    def leverage(self):
        """The patron's leverage over this militia, by the structure's theory of leverage (7.2)."""
        p = self.model.p
        loyalty = np.float64(self.spec.loyalty)
        if p.structure_leverage == 0:
            return rules.leverage(p.patron_present, p.patron_influence, loyalty, self.independence)
        return rules.leverage_persuasion_coercion(p.patron_present, p.patron_influence, loyalty, self.independence,
                                                  p.coercion_strength)  # fmt: skip

    def receive_patron(self) -> None:
        """Step 2, second half: a targeted leader takes the patron's message."""
        p = self.model.p
        targeted = bool(self.model.patron.targets[self.index])
        lam = self.leverage()
        if p.structure_grievance == 1:  # the message raises legitimacy; grievance is H (1 - L)
            before, self.legitimacy = self.legitimacy, rules.legitimised(self.legitimacy, lam, targeted,
                                                                         p.intervention_legitimacy)  # fmt: skip
            g = rules.epstein_grievance(self.hardship, self.legitimacy, p.legitimacy_base)
            _, d, pr = rules.intervene(g, self.discipline, self.pressure, lam, targeted, 0.0,
                                       p.intervention_discipline_effect)  # fmt: skip
            if p.structure_relapse == 1:
                self.calm = rules.calm_bought(self.calm, self.legitimacy - before, p.relapse_share)
        else:
            g, d, pr = rules.intervene(
                self.grievance, self.discipline, self.pressure, lam, targeted,
                p.intervention_grievance_effect, p.intervention_discipline_effect,
            )  # fmt: skip
            if p.structure_relapse == 1:
                self.calm = rules.calm_bought(self.calm, self.grievance - g, p.relapse_share)
        if p.structure_leverage == 1:
            coerced = rules.coerces(p.patron_influence, np.float64(self.spec.loyalty), self.independence,
                                    p.coercion_strength)  # fmt: skip
            if p.structure_grievance == 1:
                self.hardship = rules.berated(self.hardship, targeted, coerced, self.independence,
                                              p.coercion_strength, p.coercion_backlash)  # fmt: skip
                g = rules.epstein_grievance(self.hardship, self.legitimacy, p.legitimacy_base)
            else:
                g = rules.berated(g, targeted, coerced, self.independence, p.coercion_strength, p.coercion_backlash)
        self.grievance, self.discipline, self.pressure = g, d, pr

    def choose_stance(self) -> None:
        """Step 3: contest or restrain."""
        p = self.model.p
        prob = rules.contest_probability(
            self.grievance, self.leverage(), self.pressure, p.standing_leverage, self.contests,
            p.stance_threshold, p.stance_tau, p.stance_hysteresis,
        )  # fmt: skip
        contests = rules.leader_contests(self.model.draw(kr.Purpose.STANCE, self.uid), prob, self.order_days)
        self.stance = Stance.CONTEST if bool(contests) else Stance.RESTRAIN
        target = rules.restraint(self.contests, self.discipline, p.contest_boost)
        self.restraint = rules.relayed_restraint(self.restraint, target, self.discipline)

    def count_cells(self) -> None:
        """Step 4, end: the share of this militia's cells active today."""
        self.share = rules.active_share(np.array([c.active for c in self.cells]))[0]

    def act(self) -> None:
        """Step 5: attacks on the state/PM and on US assets; US retaliation."""
        p, m = self.model.p, self.model
        self.attacked_state_today = bool(
            m.draw(kr.Purpose.ATTACK_STATE, self.uid) < rules.daily_hazard(p.attack_rate_state, self.share)
        )
        exposure = rules.us_exposure(self.share, self.hostility_us, p.front_activity, m.truce, p.truce_compliance)
        attacked_us = m.draw(kr.Purpose.ATTACK_US, self.uid) < rules.daily_hazard(p.attack_rate_us, exposure)
        self.attacked_us_today = bool(attacked_us)
        retaliated = attacked_us & (m.draw(kr.Purpose.RETALIATION, self.uid) < p.us_retaliation_prob)
        if p.structure_grievance == 1:  # a strike is hardship (grievance follows in read_attacks)
            self.hardship, self.hostility_us = rules.after_retaliation(
                self.hardship, self.hostility_us, retaliated, p.retaliation_grievance, p.retaliation_hostility
            )
        else:
            self.grievance, self.hostility_us = rules.after_retaliation(
                self.grievance, self.hostility_us, retaliated, p.retaliation_grievance, p.retaliation_hostility
            )
        self.attacks_state = self.attacks_state + self.attacked_state_today
        self.attacks_us = self.attacks_us + attacked_us
        self.retaliations = self.retaliations + retaliated

    def read_attacks(self) -> None:
        """Step 5, end (structure.grievance=legitimacy): today's attacks on the state move legitimacy, and
        grievance follows hardship and legitimacy."""
        p = self.model.p
        if p.structure_grievance == 1:
            self.legitimacy = rules.after_attacks(self.legitimacy, self.model.attacks_today, p.attack_legitimacy)
            self.grievance = rules.epstein_grievance(self.hardship, self.legitimacy, p.legitimacy_base)

    def suffer_clash(self) -> None:
        """Step 7: a clash raises every militia's grievance (its hardship, under structure.grievance=legitimacy)."""
        p = self.model.p
        if p.structure_grievance == 1:
            self.hardship = rules.after_clash(self.hardship, self.model.clash, p.clash_grievance)
            self.grievance = rules.epstein_grievance(self.hardship, self.legitimacy, p.legitimacy_base)
        else:
            self.grievance = rules.after_clash(self.grievance, self.model.clash, p.clash_grievance)

    def drift(self) -> None:
        """Step 8: back towards baselines; independence creeps up. Under Richardson's pair the grievance first
        answers Sadr's mobilised wing."""
        p, s = self.model.p, self.spec
        if p.structure_relapse == 1:  # the calm that rested on the visit's pressure lapses with it
            released = rules.calm_released(self.calm, rules.decay(p.pressure_half_life))
            self.calm = rules.relax(self.calm - released, 0.0, p.grievance_half_life)  # the drift returns its share
            if p.structure_grievance == 1:
                self.legitimacy = rules.relapsed(self.legitimacy, -released)
            else:
                self.grievance = rules.relapsed(self.grievance, released)
        if p.structure_grievance == 1:  # hardship and legitimacy drift back; grievance follows
            if p.structure_reaction == 1:
                self.hardship = rules.militia_reaction(self.hardship, self.model.sadr.mobilisation,
                                                       p.richardson_militia_reaction)  # fmt: skip
            self.hardship = rules.relax(self.hardship, np.float64(s.grievance), p.grievance_half_life)
            self.legitimacy = rules.relax(self.legitimacy, p.legitimacy_base, p.grievance_half_life)
            self.grievance = rules.epstein_grievance(self.hardship, self.legitimacy, p.legitimacy_base)
        else:
            if p.structure_reaction == 1:
                self.grievance = rules.militia_reaction(self.grievance, self.model.sadr.mobilisation,
                                                        p.richardson_militia_reaction)  # fmt: skip
            self.grievance = rules.relax(self.grievance, np.float64(s.grievance), p.grievance_half_life)
        self.discipline = rules.relax(self.discipline, np.float64(s.discipline), p.discipline_half_life)
        self.hostility_us = rules.relax(self.hostility_us, np.float64(s.hostility_us), p.grievance_half_life)
        self.pressure = rules.relax(self.pressure, 0.0, p.pressure_half_life)
        self.independence = rules.drift_independence(self.independence, p.independence_drift)
        self.order_days = np.maximum(self.order_days - 1, 0)


class MilitiaCell(mesa.Agent):
    """A sub-unit or supporter group of one militia: acts or not each day (Epstein 2002, adapted)."""

    model: World

    def __init__(self, model: World, leader: MilitiaLeader, index: int) -> None:
        super().__init__(model)
        self.leader, self.index = leader, index
        self.uid = kr.cell_uid(leader.index, index)
        self.offset, self.risk = cell_traits(
            model.seed_value, model.replicate, leader.index, index, model.p.cell_grievance_sd
        )
        self.active = False
        self._next_active = False

    def decide(self) -> None:
        """Stage: read the leader's committed state, compute tomorrow's activity."""
        p, ld = self.model.p, self.leader
        # ld.share is still yesterday's: leaders count after their cells act
        cost = rules.expected_cost(p.arrest_k, self.model.pm.capacity, ld.share, len(ld.cells))
        prob = rules.activation_probability(
            rules.cell_grievance(ld.grievance, self.offset), self.risk, cost, ld.restraint, p.cell_threshold, p.cell_tau
        )
        self._next_active = bool(self.model.draw(kr.Purpose.CELL_ACTIVE, self.uid) < prob)

    def advance(self) -> None:
        self.active = self._next_active


class SadrBloc(mesa.Agent):
    """Sadr's movement and its armed wing: grievance, boycott or participation, mobilisation."""

    model: World
    uid = kr.SADR_UID

    def __init__(self, model: World) -> None:
        super().__init__(model)
        p = model.p
        self.grievance = np.float64(p.sadr_grievance_base)
        self.participating = True
        self.commitment = np.float64(0.0)
        self.u_walk, self.u_return = sadr_traits(model.seed_value, model.replicate)
        self.mobilisation = initial_mobilisation(p)
        self.stake = np.float64(0.0)
        self.boycott_days = np.int64(0)
        self.boycott_ended = False
        self.boycott_clash_days = np.int64(0)
        self.order_days = np.int64(0)
        self._was_participating = True

    def react(self) -> None:
        """Step 6: attacks on the state (the PM is its ally) anger it; boycott or return; its armed wing
        reads the threat from the other camp (refusals, violence, rivalry) and moves towards it."""
        p, m = self.model.p, self.model
        self.grievance = rules.after_attacks(self.grievance, m.attacks_today, p.attack_sadr_grievance)
        self._was_participating = self.participating
        self.participating = bool(
            rules.participation_after(
                self.participating, self.u_walk, self.u_return, self.grievance, self.commitment, self.stake,
                p.boycott_threshold, p.return_threshold, p.sadr_tau,
            )
        )  # fmt: skip
        self.commitment = rules.commitment_after(
            self._was_participating, self.participating, self.commitment, p.boycott_commitment
        )
        refusing = rules.refusing_share(np.array([ld.contests for ld in m.leaders]), axis=0)[0]
        threat = rules.sadr_threat(
            self.grievance, refusing, m.violence, m.rivalry, p.rivalry_base,
            p.threat_refusal, p.threat_violence, p.threat_rivalry,
        )  # fmt: skip
        if p.structure_reaction == 1:  # Richardson: his threat reads the militias' standing grievance too
            g = np.array([ld.grievance for ld in m.leaders], dtype=np.float64).reshape(1, -1, 1)
            base = np.array([ld.spec.grievance for ld in m.leaders], dtype=np.float64).reshape(1, -1, 1)
            threat = rules.richardson_threat(threat, rules.militia_excess(g, base)[0, 0, 0], p.richardson_sadr_reaction)
        if p.structure_mobilisation == 0:
            target = rules.mobilisation_target(threat, p.mobilisation_threshold, p.mobilisation_tau)
        else:  # Granovetter's cascade: the share already out counts
            target = rules.cascade_target(threat, self.mobilisation, p.cascade_peer_weight, p.mobilisation_threshold,
                                          p.mobilisation_tau)  # fmt: skip
        self.mobilisation = rules.mobilisation_after(self.mobilisation, target, p.mobilisation_rate, self.order_days)

    def suffer_clash(self) -> None:
        """Step 7: a clash angers the bloc, and Sadr may order his wing home (¶38)."""
        p = self.model.p
        self.grievance = rules.after_clash(self.grievance, self.model.clash, p.clash_grievance)
        if rules.sadr_restrains(self.model.draw(kr.Purpose.SADR_ORDER, self.uid), self.model.clash, p.sadr_restraint):
            self.mobilisation = rules.stood_down(self.mobilisation, p.sadr_discipline)
            self.order_days = np.int64(p.order_days)
        if self.model.clash:
            self.boycott_clash_days = self.boycott_clash_days + (not self.participating)

    def drift(self) -> None:
        p = self.model.p
        self.grievance = rules.relax(self.grievance, np.float64(p.sadr_grievance_base), p.grievance_half_life)
        self.boycott_ended = self.boycott_ended or (not self._was_participating and self.participating)
        self.boycott_days = self.boycott_days + (not self.participating)
        self.order_days = np.maximum(self.order_days - 1, 0)


class PrimeMinister(mesa.Agent):
    """The prime minister and the state's security forces: their capacity deters cells."""

    model: World
    uid = kr.PM_UID

    def __init__(self, model: World) -> None:
        super().__init__(model)
        self.capacity = np.float64(model.p.state_capacity)
        self.aligned_with_sadr = True  # ¶5
