"""Plan an import against what the database holds (apply.py then writes it in bulk).

`plan_import` reads the existing records of the file's pupils in a few chunked queries
and decides, row by row, what is created, updated or unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text

from ..db import db
from ..models import PupilRecord, RecordGuardianLink, RepresentativeRecord, School
from .names import fold_words
from .rows import PupilRow, RepresentativeRow

CHUNK = 1000


def chunks(values: list):
    """The values in slices of CHUNK (one statement each)."""
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


@dataclass
class PupilState:
    row: PupilRow
    id: int | None = None
    account_id: int | None = None
    old_account_id: int | None = None
    changes: dict = field(default_factory=dict)
    status: str = "unchanged"


@dataclass
class RepState:
    key: str
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    school_id: int
    id: int | None = None
    account_id: int | None = None
    old_account_id: int | None = None
    changes: dict = field(default_factory=dict)
    original: dict = field(default_factory=dict)   # as the database holds it

    @property
    def names_key(self) -> str:
        return f"{fold_words(self.last_name)}|{fold_words(self.first_name)}"


@dataclass
class ImportPlan:
    school: School
    pupils: list[PupilState] = field(default_factory=list)
    reps: dict = field(default_factory=dict)       # ("id", n) or ("key", k) -> RepState
    new_links: list = field(default_factory=list)  # (PupilState, RepState, rank)
    kept_links: list = field(default_factory=list)  # (PupilState, RepState)
    rank_updates: list = field(default_factory=list)   # (link id, rank)
    removed_links: list = field(default_factory=list)  # (link id, rep RepState, PupilState)
    absent: int = 0

    def counts(self) -> tuple[int, int, int]:
        statuses = [p.status for p in self.pupils]
        return statuses.count("created"), statuses.count("updated"), statuses.count("unchanged")

    def new_representative_count(self) -> int:
        return sum(1 for r in self.reps.values() if r.id is None)

    def accounts_to_create(self) -> int:
        return sum(1 for p in self.pupils if p.account_id is None) + \
            sum(1 for r in self.reps.values() if r.account_id is None)


def load_chunked(stmt_for_chunk, values: list) -> list:
    """The rows of stmt_for_chunk(chunk) for every chunk of the values."""
    rows = []
    for chunk in chunks(values):
        rows.extend(db.session.execute(stmt_for_chunk(chunk)).all())
    return rows


def custom_plans_only() -> None:
    """PostgreSQL: plan every statement of this transaction with its actual values.

    psycopg prepares a statement once it has run 5 times on a connection, and PostgreSQL
    may then switch it to a generic plan. For the representatives' lookup that plan was
    `match_key IN ($2, ... $1001)` as a filter compared element by element against every
    row of the academy (parameters, not constants: the list is not hashed), so the lookup
    grew with the table, to about 1 s per school after 20 schools in bench/roster_bench.py.
    With the values known, the list is an index condition or a hashed filter."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def plan_import(school: School, rows: list[PupilRow]) -> ImportPlan:
    """Decide, without writing, what each valid row changes."""
    custom_plans_only()
    plan = ImportPlan(school)
    P, R, L = PupilRecord, RepresentativeRecord, RecordGuardianLink
    existing = {r.national_id: r for r in load_chunked(
        lambda c: select(P.id, P.national_id, P.school_id, P.first_name, P.last_name,
                         P.birth_date, P.class_name, P.account_id).where(P.national_id.in_(c)),
        [row.national_id for row in rows])}
    links: dict[int, dict[int, tuple[int, int]]] = {}
    for link in load_chunked(lambda c: select(L.id, L.pupil_record_id, L.representative_record_id,
                                       L.rank).where(L.pupil_record_id.in_(c)),
                      [r.id for r in existing.values()]):
        links.setdefault(link.pupil_record_id, {})[link.representative_record_id] = \
            (link.id, link.rank)
    rep_columns = (R.id, R.match_key, R.first_name, R.last_name, R.phone, R.email, R.account_id)
    known = {r.id: r for r in load_chunked(lambda c: select(*rep_columns).where(R.id.in_(c)),
                                    sorted({rid for m in links.values() for rid in m}))}
    keys = sorted({rep.match_key(row.national_id) for row in rows for rep in row.representatives})
    by_key = {r.match_key: r for r in load_chunked(
        lambda c: select(*rep_columns).where(R.academy_code == school.academy_code,
                                             R.match_key.in_(c)), keys)}
    known.update({r.id: r for r in by_key.values()})

    def rep_state(snapshot) -> RepState:
        state = plan.reps.get(("id", snapshot.id))
        if state is None:
            state = RepState(snapshot.match_key, snapshot.first_name, snapshot.last_name,
                             snapshot.phone, snapshot.email, school.id, snapshot.id,
                             snapshot.account_id, snapshot.account_id)
            state.original = {"first_name": snapshot.first_name, "last_name": snapshot.last_name,
                              "phone": snapshot.phone, "email": snapshot.email}
            plan.reps[("id", snapshot.id)] = state
        return state

    for row in rows:
        pupil = PupilState(row)
        old = existing.get(row.national_id)
        changed = old is None
        if old is not None:
            pupil.id, pupil.account_id, pupil.old_account_id = old.id, old.account_id, \
                old.account_id
            wanted = {"first_name": row.first_name, "last_name": row.last_name,
                      "birth_date": row.birth_date, "class_name": row.class_name,
                      "school_id": school.id}
            pupil.changes = {k: v for k, v in wanted.items() if getattr(old, k) != v}
            changed = bool(pupil.changes) or old.account_id is None
        linked = links.get(pupil.id, {}) if pupil.id else {}
        linked_by_names = {}
        for rid in linked:
            snap = known[rid]
            linked_by_names[f"{fold_words(snap.last_name)}|{fold_words(snap.first_name)}"] = rid
        kept = set()
        for rep_row in row.representatives:
            rep, is_new = _match_rep(plan, rep_row, row, linked_by_names, known, by_key, rep_state)
            changed |= is_new or rep.account_id is None or _update_rep(plan, rep, rep_row, row,
                                                                       by_key)
            if rep.id is not None and rep.id in linked:
                kept.add(rep.id)
                plan.kept_links.append((pupil, rep))
                link_id, rank = linked[rep.id]
                if rank != rep_row.rank:
                    plan.rank_updates.append((link_id, rep_row.rank))
                    changed = True
            else:
                plan.new_links.append((pupil, rep, rep_row.rank))
                changed = True
        for rid, (link_id, _rank) in linked.items():
            if rid not in kept:
                plan.removed_links.append((link_id, rep_state(known[rid]), pupil))
                changed = True
        pupil.status = "created" if old is None else ("updated" if changed else "unchanged")
        plan.pupils.append(pupil)
    in_file = {row.national_id for row in rows}
    plan.absent = sum(1 for ine in db.session.scalars(
        select(P.national_id).where(P.school_id == school.id)) if ine not in in_file)
    return plan


def _match_rep(plan, rep_row: RepresentativeRow, row: PupilRow, linked_by_names, known,
               by_key, rep_state) -> tuple[RepState, bool]:
    """The same person: already linked to this pupil under these names, else known by
    names + first contact in this academy (a sibling's row), else someone new."""
    rid = linked_by_names.get(rep_row.names_key)
    if rid is not None:
        return rep_state(known[rid]), False
    key = rep_row.match_key(row.national_id)
    if key in by_key:
        return rep_state(by_key[key]), False
    if ("key", key) in plan.reps:
        return plan.reps[("key", key)], False
    state = RepState(key, rep_row.first_name, rep_row.last_name, rep_row.phone, rep_row.email,
                     plan.school.id)
    plan.reps[("key", key)] = state
    return state, True


def _update_rep(plan, rep: RepState, rep_row: RepresentativeRow, row: PupilRow, by_key) -> bool:
    """Bring a known representative up to date with this row; True when anything changed."""
    if rep.id is None:
        return False
    wanted = {"first_name": rep_row.first_name, "last_name": rep_row.last_name,
              "phone": rep_row.phone, "email": rep_row.email}
    new_key = rep_row.match_key(row.national_id)
    if new_key != rep.key and new_key not in by_key and ("key", new_key) not in plan.reps:
        wanted["match_key"] = new_key
    diff = {k: v for k, v in wanted.items()
            if getattr(rep, "key" if k == "match_key" else k) != v}
    for k, v in diff.items():
        setattr(rep, "key" if k == "match_key" else k, v)
    rep.changes.update(diff)
    # This row changes the person if it differs from the database (an earlier sibling's
    # row may already have carried the same change).
    return any(rep.original.get(k) != v for k, v in wanted.items() if k != "match_key")
