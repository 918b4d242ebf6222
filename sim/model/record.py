"""The public record (seeds/record.yaml): sourced counts and dates of January 2021 to January 2022, loaded and
checked, and turned into attack-rate intervals for a count-based calibration."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sim.model.params import ParameterError
from sim.paths import SEEDS_DIR

RECORD_PATH = SEEDS_DIR / "record.yaml"
CUTOFF = date(2022, 1, 31)  # the end of the seed article's window: nothing later enters the record
START = date(2021, 1, 1)
PUBLICATION_GRACE_DAYS = 14  # a source may appear this long after the cut-off, about days before it
KINDS = ("attacks_us_tally", "attacks_us_spread", "attacks_us_period", "attacks_us_convoy", "attacks_state",
         "party_office_attack", "assassination", "militia_state_clash", "sadr_armed_wing", "boycott", "election",
         "patron_visit", "intra_shia_clash", "us_retaliation")  # fmt: skip
# the kinds of violence between the camps below the clash threshold (issue 26): they meet the clash side of the
# model without being clashes
BELOW_CLASH = ("party_office_attack", "assassination", "militia_state_clash")
CERTAINTIES = ("reported", "inferred")
CHECKS = ("confirmed", "corrected", "not_refound", "new")  # the recheck of issue 26, per entry
COVERS = ("sites_and_convoys", "sites", "unstated")  # what a running tally counts (attacks_us_tally only)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RecordError(ParameterError):
    """A record entry that breaks the rules of seeds/record.yaml; the message names the entry and field."""


@dataclass(frozen=True)
class Source:
    outlet: str
    published: date
    url: str
    date_inferred: bool = False
    note: str = ""


@dataclass(frozen=True)
class Entry:
    """One sourced count, interval or date. Exactly one of ``count``, ``low`` (with ``high``, None when open
    above) or ``on`` is set."""

    id: str
    kind: str
    counts: str
    start: date
    end: date
    sources: tuple[Source, ...]
    certainty: str
    model: str
    count: int | None = None
    low: int | None = None
    high: int | None = None
    on: date | None = None
    counter: str | None = None
    notes: str = ""
    check: str = "confirmed"
    disagreement: str = ""
    covers: str | None = None

    @property
    def published(self) -> date:
        """The day the entry became public: its earliest source's for a reported fact (any source says it),
        its latest source's for our reading of several (it needs them all)."""
        days = [s.published for s in self.sources]
        return min(days) if self.certainty == "reported" else max(days)

    @property
    def interval(self) -> tuple[int, float] | None:
        """The count as an interval (count, count), or (low, high) with math.inf for an open top; None for a
        dated entry."""
        if self.count is not None:
            return self.count, self.count
        if self.low is not None:
            return self.low, math.inf if self.high is None else self.high
        return None

    @property
    def days(self) -> int:
        """Days covered, both ends included."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Record:
    cutoff: date
    entries: tuple[Entry, ...]
    not_covered: tuple[str, ...]

    def kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    def __getitem__(self, entry_id: str) -> Entry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)


@dataclass(frozen=True)
class Rate:
    """Attacks per ``per_days`` days over [start, end], as an interval; ``basis`` is 'cumulative' (from the
    tally's own start) or 'increment' (between two tallies of the same counter)."""

    counter: str
    start: date
    end: date
    low: float
    high: float
    basis: str


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RecordError(f"{where}={value!r} is not an ISO date (YYYY-MM-DD)") from None


def _text(raw: Mapping, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{where}.{key} is missing or empty")
    return " ".join(value.split())


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{where}={value!r} must be a whole number >= 0")
    return value


def _source(raw: Any, where: str, cutoff: date) -> Source:
    if not isinstance(raw, Mapping):
        raise RecordError(f"{where} must be a mapping with outlet, published and url")
    outlet = _text(raw, "outlet", where)
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise RecordError(f"{where}.url={url!r} must be an address starting with http")
    published = _date(raw.get("published"), f"{where}.published")
    if published < START:
        raise RecordError(f"{where}.published={published} is before the record's start {START}")
    if published > cutoff + timedelta(days=PUBLICATION_GRACE_DAYS):
        raise RecordError(f"{where}.published={published} is more than {PUBLICATION_GRACE_DAYS} days after the "
                          f"cut-off {cutoff}")  # fmt: skip
    return Source(
        outlet, published, url, bool(raw.get("date_inferred", False)), " ".join(str(raw.get("note", "")).split())
    )


def _entry(raw: Any, where: str, cutoff: date) -> Entry:
    if not isinstance(raw, Mapping):
        raise RecordError(f"{where} must be a mapping")
    eid = raw.get("id")
    if not isinstance(eid, str) or not _ID.match(eid):
        raise RecordError(f"{where}.id={eid!r} must be snake_case")
    where = f"{where} ({eid})"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RecordError(f"{where}.kind={kind!r}; allowed: {', '.join(KINDS)}")
    period = raw.get("period")
    if not isinstance(period, Mapping):
        raise RecordError(f"{where}.period must be {{start, end}}")
    start, end = _date(period.get("start"), f"{where}.period.start"), _date(period.get("end"), f"{where}.period.end")
    if start > end:
        raise RecordError(f"{where}.period: start {start} is after end {end}")
    if start < START:
        raise RecordError(f"{where}.period.start={start} is before the record's start {START}")
    if end > cutoff:
        raise RecordError(f"{where}.period.end={end} is after the cut-off {cutoff}")
    value = raw.get("value")
    forms = ("count", "low", "date")
    if not isinstance(value, Mapping) or sum(k in value for k in forms) != 1:
        raise RecordError(f"{where}.value must hold exactly one of count, low (with high) or date")
    count = low = high = on = None
    if "count" in value:
        count = _count(value["count"], f"{where}.value.count")
    elif "low" in value:
        if "high" not in value:
            raise RecordError(f"{where}.value.high is missing (null for an open interval)")
        low = _count(value["low"], f"{where}.value.low")
        if value["high"] is not None:
            high = _count(value["high"], f"{where}.value.high")
            if low > high:
                raise RecordError(f"{where}.value: low {low} > high {high}")
    else:
        on = _date(value["date"], f"{where}.value.date")
        if not start <= on <= end:
            raise RecordError(f"{where}.value.date={on} is outside the period {start}..{end}")
    counter = raw.get("counter")
    if kind == "attacks_us_tally" and (not isinstance(counter, str) or not counter.strip()):
        raise RecordError(f"{where}.counter is missing: a tally names whose count it is")
    if kind == "attacks_us_tally" and on is not None:
        raise RecordError(f"{where}.value: a tally is a count or an interval, not a date")
    sources = raw.get("sources")
    if not isinstance(sources, Sequence) or isinstance(sources, str) or not sources:
        raise RecordError(f"{where}.sources is missing or empty")
    srcs = tuple(_source(s, f"{where}.sources[{j}]", cutoff) for j, s in enumerate(sources))
    for j, s in enumerate(srcs):
        if s.published < start:
            raise RecordError(f"{where}.sources[{j}].published={s.published} is before the period it reports ({start})")
    certainty = raw.get("certainty")
    if certainty not in CERTAINTIES:
        raise RecordError(f"{where}.certainty={certainty!r}; allowed: {', '.join(CERTAINTIES)}")
    check = raw.get("check")
    if check not in CHECKS:
        raise RecordError(f"{where}.check={check!r}; allowed: {', '.join(CHECKS)}")
    covers = raw.get("covers")
    if kind == "attacks_us_tally" and covers not in COVERS:
        raise RecordError(f"{where}.covers={covers!r}: a tally says what it counts; allowed: {', '.join(COVERS)}")
    if kind != "attacks_us_tally" and covers is not None:
        raise RecordError(f"{where}.covers is for attacks_us_tally entries only")
    return Entry(eid, kind, _text(raw, "counts", where), start, end, srcs, certainty, _text(raw, "model", where),
                 count, low, high, on, counter, " ".join(str(raw.get("notes", "")).split()), check,
                 " ".join(str(raw.get("disagreement", "")).split()), covers)  # fmt: skip


def parse_record(doc: Mapping, name: str = "record.yaml") -> Record:
    """Check a parsed record document and build the Record; the first broken rule raises RecordError."""
    if not isinstance(doc, Mapping):
        raise RecordError(f"{name}: the top level must be a mapping")
    cutoff = _date(doc.get("cutoff"), f"{name}: cutoff")
    if cutoff > CUTOFF:
        raise RecordError(f"{name}: cutoff={cutoff} is later than {CUTOFF}, the end of the seed article's window")
    declared = doc.get("kinds")
    if not isinstance(declared, Mapping) or set(declared) != set(KINDS):
        raise RecordError(f"{name}: kinds must declare exactly {', '.join(KINDS)}")
    not_covered = doc.get("not_covered")
    if not isinstance(not_covered, Sequence) or not not_covered:
        raise RecordError(f"{name}: not_covered is missing or empty")
    for j, item in enumerate(not_covered):
        if not isinstance(item, Mapping):
            raise RecordError(f"{name}: not_covered[{j}] must be a mapping with what, why and sources")
        _text(item, "what", f"{name}: not_covered[{j}]")
        _text(item, "why", f"{name}: not_covered[{j}]")
        for k, s in enumerate(item.get("sources") or ()):
            _source(s, f"{name}: not_covered[{j}].sources[{k}]", cutoff)
    raw_entries = doc.get("entries")
    if not isinstance(raw_entries, Sequence) or not raw_entries:
        raise RecordError(f"{name}: entries is missing or empty")
    entries, seen = [], set()
    for i, raw in enumerate(raw_entries):
        e = _entry(raw, f"{name}: entries[{i}]", cutoff)
        if e.id in seen:
            raise RecordError(f"{name}: entries[{i}] ({e.id}).id is used twice")
        seen.add(e.id)
        entries.append(e)
    return Record(cutoff, tuple(entries), tuple(" ".join(str(x["what"]).split()) for x in not_covered))


def known_from(entries: Iterable[Entry]) -> date:
    """The first day on which all of ``entries`` had been published (a count resting on them was known)."""
    return max(e.published for e in entries)


def load_record(path: Path | None = None) -> Record:
    """Load and check seeds/record.yaml (or another file of the same form). The default is looked up when called,
    so that a tool (or a test) pointing RECORD_PATH at another file is obeyed by every reader."""
    path = Path(RECORD_PATH if path is None else path)
    from sim.model.yaml_files import load_yaml

    try:
        doc = load_yaml(path, "the public record")
    except ParameterError as exc:
        raise RecordError(str(exc)) from None
    return parse_record(doc, path.name)


def tallies(record: Record) -> dict[str, list[Entry]]:
    """The running tallies of attacks on US interests, per counter, in order of the day they reach."""
    out: dict[str, list[Entry]] = {}
    for e in record.kind("attacks_us_tally"):
        out.setdefault(e.counter or "", []).append(e)
    return {k: sorted(v, key=lambda e: (e.end, e.interval)) for k, v in sorted(out.items())}


def non_monotone(record: Record) -> list[tuple[str, str]]:
    """Pairs (earlier id, later id) of one counter whose later tally is lower: both ends of its interval
    must be at least the earlier tally's."""
    bad = []
    for series in tallies(record).values():
        for a, b in itertools.pairwise(series):
            (alo, ahi), (blo, bhi) = a.interval, b.interval
            if blo < alo or (math.isfinite(ahi) and bhi < ahi):
                bad.append((a.id, b.id))
    return bad


def tally_rates(record: Record, per_days: float = 30.0) -> list[Rate]:
    """Attack rates from the tallies: for each tally, its count over the days since its own start
    ('cumulative'); for each consecutive pair of one counter, the growth over the days between them
    ('increment', low end clipped at 0, high end inf where a tally is open above)."""
    out = []
    for counter, series in tallies(record).items():
        for e in series:
            lo, hi = e.interval
            out.append(Rate(counter, e.start, e.end, lo * per_days / e.days, hi * per_days / e.days, "cumulative"))
        for a, b in itertools.pairwise(series):
            days = (b.end - a.end).days
            if days <= 0 or a.start != b.start:
                continue  # same day, or counted from different starts: no increment
            (alo, ahi), (blo, bhi) = a.interval, b.interval
            lo, hi = max(0.0, blo - ahi), bhi - alo
            out.append(Rate(counter, a.end + timedelta(days=1), b.end, lo * per_days / days, hi * per_days / days,
                            "increment"))  # fmt: skip
    return out


def attacks_per_period(
    record: Record, days: float = 30.0, counters: Iterable[str] | None = None
) -> tuple[float, float]:
    """The record's interval for attacks on US interests per ``days`` days: the envelope of the tallies'
    cumulative rates (every counter, or those named; a tally open above adds only its low end). Covers the
    tallies' span (mostly January to early July 2021); for a window of N days use days=N."""
    wanted = None if counters is None else set(counters)
    rates = [
        r for r in tally_rates(record, days) if r.basis == "cumulative" and (wanted is None or r.counter in wanted)
    ]
    if not rates:
        raise RecordError("no attacks_us_tally entries match")
    finite = [r.high for r in rates if math.isfinite(r.high)]  # an open-topped tally ("at least N") bounds below only
    return min(r.low for r in rates), max(finite) if finite else math.inf
