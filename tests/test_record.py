"""The public record (seeds/record.yaml): it loads, is sourced, stops at the cut-off, its tallies only grow,
and the validator rejects broken entries with an error naming the entry and the field."""

from __future__ import annotations

import copy
import math
from datetime import date

import pytest
import yaml

from sim.model import record as rec
from sim.model.scenario import load_scenario

RAW = yaml.safe_load(rec.RECORD_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def record() -> rec.Record:
    return rec.load_record()


def test_loads_with_enough_entries_and_kinds(record):
    assert len(record.entries) >= 15
    assert len({e.kind for e in record.entries}) >= 6
    assert {e.kind for e in record.entries} == set(rec.KINDS)  # every declared kind is used
    assert len({e.id for e in record.entries}) == len(record.entries)


def test_every_entry_is_sourced_mapped_and_rechecked(record):
    for e in record.entries:
        assert e.sources, e.id
        for s in e.sources:
            assert s.url.startswith(("http://", "https://")) and s.outlet.strip(), e.id
            assert isinstance(s.published, date), e.id
        assert e.counts and e.model, e.id
        assert (e.count is not None) + (e.low is not None) + (e.on is not None) == 1, e.id
        assert e.check in rec.CHECKS, e.id
        days = [s.published for s in e.sources]
        assert e.published == (min(days) if e.certainty == "reported" else max(days)), e.id
        assert (e.covers is not None) == (e.kind == "attacks_us_tally"), e.id
    # a corrected entry says what it replaces; the recheck left only a few entries not found again
    for e in record.entries:
        if e.check == "corrected":
            assert "replaces" in e.notes.lower() or "was at least" in e.notes.lower(), e.id
    assert sum(e.check == "not_refound" for e in record.entries) <= 5


def test_two_outlets_where_the_record_says_so(record):
    multi = [e for e in record.entries if len({s.outlet for s in e.sources}) >= 2]
    assert len(multi) >= 15


def test_nothing_after_the_cutoff(record):
    assert record.cutoff == rec.CUTOFF == date(2022, 1, 31)
    for e in record.entries:
        assert rec.START <= e.start <= e.end <= rec.CUTOFF, e.id
        assert e.on is None or e.start <= e.on <= e.end, e.id
        for s in e.sources:
            assert s.published <= date(2022, 2, 14), e.id
            assert s.published >= e.start, e.id


def test_the_record_says_what_it_does_not_cover(record):
    text = " ".join(record.not_covered).lower()
    for topic in ("attribution", "front", "convoy", "after 31 january 2022"):
        assert topic in text


def test_tallies_grow_in_time_per_counter(record):
    assert rec.non_monotone(record) == []
    series = rec.tallies(record)
    assert len(series["afp"]) >= 3  # the running count the issue quotes, at several dates
    for s in series.values():
        ends = [e.end for e in s]
        assert ends == sorted(ends)


def test_non_monotone_catches_a_falling_tally():
    doc = copy.deepcopy(RAW)
    tally = next(e for e in doc["entries"] if e["id"] == "us_tally_afp_2021_07_07")
    tally["value"] = {"count": 40}  # below the 47 AFP had the day before
    assert ("us_tally_afp_2021_07_06", "us_tally_afp_2021_07_07") in rec.non_monotone(rec.parse_record(doc))


def test_the_quoted_figures_are_in_the_record(record):
    assert record["us_tally_afp_2021_04_22"].count == 23
    assert record["us_tally_afp_2021_07_06"].count == 47
    assert record["sadr_boycott_announced_2021_07_15"].on == date(2021, 7, 15)
    assert record["sadr_boycott_reversed_2021_08_27"].on == date(2021, 8, 27)
    assert record["sadr_boycott_duration_2021"].count == (date(2021, 8, 27) - date(2021, 7, 15)).days
    assert record["green_zone_clash_2021_11_05"].on == date(2021, 11, 5)
    nil = record["intra_shia_clashes_none_2021_01_2022_01"]
    assert nil.count == 0 and nil.kind == "intra_shia_clash" and len(nil.sources) >= 2


def test_the_corrections_of_issue_26(record):
    """The contradicted lull is gone, the missing events are in, the Maysan killing has its day."""
    ids = {e.id for e in record.entries}
    assert "us_attacks_lull_2021_07_09_09_10" not in ids and "sadrist_figure_killed_2022_01_09" not in ids
    assert record["us_attack_harir_2021_07_23"].on == date(2021, 7, 23)
    assert record["us_attack_green_zone_2021_07_29"].on == date(2021, 7, 29)
    assert record["us_attack_green_zone_2021_10_31"].on == date(2021, 10, 31)
    assert record["us_attack_airport_2022_01_28"].on == date(2022, 1, 28)
    assert record["us_attacks_jan_2022"].low == 7
    assert record["sadr_calls_factions_to_disarm_2021_11_18"].on == date(2021, 11, 18)
    assert record["sadr_dissolves_promised_day_brigade_2021_11_19"].on == date(2021, 11, 19)
    maysan = record["sadrist_killed_maysan_2022_01_10"]
    assert maysan.on == date(2022, 1, 10) and maysan.kind == "assassination"
    # violence below the clash threshold has kinds of its own
    assert {e.kind for e in record.entries} >= set(rec.BELOW_CLASH)
    assert record["green_zone_clash_2021_11_05"].kind in rec.BELOW_CLASH


def test_one_definition_of_an_attack_on_us_interests(record):
    """Convoy attacks are their own kind; every tally says what it counts; the first half-year's sites-only
    count is an entry that reads the mixed tallies, and a count over a stretch of days holds every dated
    attack inside it (the old lull held 0-1 attacks over days with two dated ones)."""
    assert record.kind("attacks_us_convoy")
    assert all(e.covers in rec.COVERS for e in record.kind("attacks_us_tally"))
    h1 = record["us_sites_2021_h1"]
    assert h1.certainty == "inferred" and (h1.start, h1.end) == (date(2021, 1, 1), date(2021, 6, 30))
    dated = [e for e in record.kind("attacks_us_period") if e.on is not None]
    for e in record.kind("attacks_us_period"):
        if e.on is not None or "syria" in e.counts.lower() or e.start < date(2021, 7, 1):
            continue
        inside = sum(e.start <= d.on <= e.end for d in dated)
        lo, hi = e.interval
        assert inside <= hi, (e.id, inside, hi)
        assert lo <= max(inside, lo), e.id


def test_publication_dates_say_what_was_known_when(record):
    """An entry is public from its first source; a count resting on several is known from the last of them:
    the year's count of attacks on bases (Rudaw, 3 January 2022) was not known on 10 October 2021."""
    assert record["us_sites_attacks_2021"].published == date(2022, 1, 3)
    assert rec.known_from([record["us_sites_2021_h1"]]) == date(2021, 6, 22)  # our reading: its last source
    assert rec.known_from([record["us_attack_erbil_2021_09_11"], record["us_sites_attacks_2021"]]) == date(2022, 1, 3)


def test_window_entries_fall_in_the_record_scenario(record):
    sc = load_scenario("seed_timeline")
    start, end = date.fromisoformat(str(sc.start)), date.fromisoformat(str(sc.end))
    assert (start, end) == (date(2021, 7, 1), date(2022, 1, 31))
    full = load_scenario("record_2021")
    first, last = date.fromisoformat(str(full.start)), date.fromisoformat(str(full.end))
    assert (first, last) == (date(2021, 1, 1), date(2022, 1, 31))
    for e in record.kind("attacks_us_period"):
        assert first <= e.start and e.end <= last, e.id
    forced = {ev.kind: ev.day for ev in sc.events}  # the record and the scenario agree on the forced dates
    assert (record["pm_residence_drone_2021_11_07"].on - start).days == forced["attack"]
    assert (record["sadr_boycott_announced_2021_07_15"].on - start).days == forced["boycott"]


def test_tally_rates_by_hand():
    doc = copy.deepcopy(RAW)
    doc["entries"] = [
        {**RAW["entries"][0], "id": "a", "counter": "x", "period": {"start": "2021-01-01", "end": "2021-01-30"},
         "value": {"count": 15}},
        {**RAW["entries"][0], "id": "b", "counter": "x", "period": {"start": "2021-01-01", "end": "2021-03-01"},
         "value": {"low": 27, "high": 33}},
    ]  # fmt: skip
    r = rec.parse_record(doc)
    rates = {(x.basis, x.end): x for x in rec.tally_rates(r, per_days=30)}
    assert rates["cumulative", date(2021, 1, 30)].low == pytest.approx(15.0)  # 15 in 30 days
    inc = rates["increment", date(2021, 3, 1)]  # 12 to 18 more in the 30 days from 31 Jan to 1 Mar
    assert (inc.low, inc.high) == pytest.approx((12.0, 18.0))
    assert rec.attacks_per_period(r, days=60) == pytest.approx((27.0, 33.0))  # envelope of 30 and [27, 33]


def test_attacks_per_month_from_the_record(record):
    lo, hi = rec.attacks_per_period(record)
    assert 4 < lo <= hi < 15  # about a quarter of an attack a day in the first half of 2021
    afp_lo, afp_hi = rec.attacks_per_period(record, counters=["afp"])
    assert lo <= afp_lo <= afp_hi <= hi
    assert rec.attacks_per_period(record, counters=["aljazayr"]) == (pytest.approx(30 * 30 / 109), math.inf)
    with pytest.raises(rec.RecordError):
        rec.attacks_per_period(record, counters=["nobody"])


def _broken(mutate) -> str:
    doc = copy.deepcopy(RAW)
    mutate(doc["entries"][1])  # us_tally_afp_2021_04_18
    with pytest.raises(rec.RecordError) as err:
        rec.parse_record(doc)
    msg = str(err.value)
    assert "\n" not in msg and "us_tally_afp_2021_04_18" in msg
    return msg


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e["sources"][0].update(url="www.example.org/x"), "url"),
        (lambda e: e["sources"][0].pop("outlet"), "outlet"),
        (lambda e: e["sources"][0].update(published="2022-03-01"), "published"),
        (lambda e: e["sources"][0].update(published="2021-01-05"), "published"),
        (lambda e: e.update(sources=[]), "sources"),
        (lambda e: e.update(period={"start": "2021-01-20", "end": "2022-02-01"}), "period.end"),
        (lambda e: e.update(period={"start": "2021-05-01", "end": "2021-04-18"}), "period"),
        (lambda e: e.update(kind="rumour"), "kind"),
        (lambda e: e.update(value={"low": 22, "high": 18}), "value"),
        (lambda e: e.update(value={"low": 18}), "value.high"),
        (lambda e: e.update(value={"count": 3, "date": "2021-04-18"}), "value"),
        (lambda e: e.update(value={"count": -1}), "value.count"),
        (lambda e: e.update(value={"date": "2021-04-18"}), "value"),
        (lambda e: e.pop("counter"), "counter"),
        (lambda e: e.update(certainty="likely"), "certainty"),
        (lambda e: e.update(model=""), "model"),
        (lambda e: e.update(check="probably"), "check"),
        (lambda e: e.pop("check"), "check"),
        (lambda e: e.pop("covers"), "covers"),
        (lambda e: e.update(covers="everything"), "covers"),
    ],
)
def test_validator_rejects_broken_entries(mutate, field):
    assert f".{field}" in _broken(mutate)


def test_validator_rejects_duplicates_unknown_kinds_and_a_later_cutoff():
    doc = copy.deepcopy(RAW)
    doc["entries"].append(copy.deepcopy(doc["entries"][0]))
    with pytest.raises(rec.RecordError, match=r"us_tally_kayhan_2021_04_04\)\.id is used twice"):
        rec.parse_record(doc)
    doc = copy.deepcopy(RAW)
    doc["kinds"]["rumour"] = "not a kind"
    with pytest.raises(rec.RecordError, match="kinds must declare"):
        rec.parse_record(doc)
    doc = copy.deepcopy(RAW)
    doc["cutoff"] = "2022-06-30"
    with pytest.raises(rec.RecordError, match="cutoff"):
        rec.parse_record(doc)
    doc = copy.deepcopy(RAW)
    doc["not_covered"] = []
    with pytest.raises(rec.RecordError, match="not_covered"):
        rec.parse_record(doc)


def test_open_intervals_read_as_infinite(record):
    lo, hi = record["party_office_attacks_2022_01_13_19"].interval
    assert lo == 5 and math.isinf(hi)
    assert record["pm_residence_drone_2021_11_07"].interval is None
