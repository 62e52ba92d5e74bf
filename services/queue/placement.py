"""Where a customer waits in its assignment's queue, and the order of free customers."""

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

Kind = Literal["free", "cool", "sfu", "pfu", "limit", "blocked", "park"]
Direction = Literal["asc", "desc"]

# A sort value: a number, a text, a date, or None (missing values sort last either way).
SortValue = tuple[float | str | date | datetime | None, Direction]

UNSEGMENTED = "0"
_TEXT_BYTES = 12  # texts order by their first 12 bytes (case-folded); enough for names and codes


@dataclass(frozen=True, slots=True)
class Placement:
    kind: Kind
    segment: str = UNSEGMENTED
    tz: str = "UTC"
    rank: str = ""
    due_ms: int | None = None
    owner: int | None = None

    def encode(self) -> str:
        due = "" if self.due_ms is None else str(self.due_ms)
        owner = "" if self.owner is None else str(self.owner)
        return "|".join((self.kind, self.segment, self.tz, self.rank, due, owner))

    def entry(self, customer_id: int) -> "Entry":
        """Where a bulk build writes this customer: see `Entry`."""
        cid = str(customer_id)
        home = self.encode()
        kind, seg = self.kind, self.segment
        if kind == "free":
            return (cid, home, seg, f"free:{seg}|{self.tz}", self.rank, 0)
        if kind == "cool":
            return (cid, home, seg, f"cool:{seg}|{self.tz}", cid, self.due_ms or 0)
        if kind == "sfu":
            return (cid, home, seg, "sfu:" + seg, cid, self.due_ms or 0)
        if kind == "pfu":
            owner = "" if self.owner is None else str(self.owner)
            return (cid, home, seg, "pfu:" + owner, cid, self.due_ms or 0)
        if kind == "limit" or kind == "blocked":
            return (cid, home, seg, f"{kind}:{seg}", cid, None)
        return (cid, home, seg, "", "", None)

    @classmethod
    def decode(cls, raw: str) -> "Placement":
        kind, segment, tz, rank, due, owner = raw.split("|")
        return cls(
            kind=kind,  # type: ignore[arg-type]
            segment=segment,
            tz=tz,
            rank=rank,
            due_ms=int(due) if due else None,
            owner=int(owner) if owner else None,
        )


# A customer as a bulk build writes it (services.queue.engine.QueueBuild), in plain values
# because a rebuild makes a million of them: (customer id, encoded home, segment, structure
# it waits in or "" when nowhere, member of that structure, score or None for a plain set).
Entry = tuple[str, str, str, str, str, int | None]


# The common case of a rebuild, in plain values: a customer in a free state without a
# follow-up, no blocked phones, in an assignment without sort keys. (customer id, import
# order, segment id, time zone, over the attempt limit, end of cooldown in ms or None).
PlainFacts = tuple[int, int, int | None, str, bool, int | None]


# Free customers by bucket ("segment|tz"), each as (customer id, rank): how a bulk build
# writes the common case without a tuple per customer for each key it goes to.
FreeByBucket = dict[str, list[tuple[str, str]]]


def plain_places(
    facts: Iterable[PlainFacts], *, stop_at_limit: bool, now_ms: int
) -> tuple[FreeByBucket, list[Entry]]:
    """compute_placement of plain facts: the free customers by bucket, the others (at the
    attempt limit, cooling down) as entries."""
    free: FreeByBucket = {}
    others: list[Entry] = []
    buckets: dict[tuple[int | None, str], list[tuple[str, str]]] = {}
    for cid, import_order, segment_id, tz, over_limit, cooldown in facts:
        if over_limit and stop_at_limit:
            others.append(_held_back(cid, import_order, segment_id, tz, over_limit, None))
            continue
        if cooldown is not None and cooldown > now_ms:
            others.append(_held_back(cid, import_order, segment_id, tz, over_limit, cooldown))
            continue
        members = buckets.get((segment_id, tz))
        if members is None:
            seg = str(segment_id) if segment_id else UNSEGMENTED
            members = buckets[(segment_id, tz)] = free.setdefault(f"{seg}|{tz}", [])
        # plain_rank, inline: this line runs for a million customers in a rebuild.
        members.append(
            (str(cid), hex(_RANK_MARK | over_limit << 128 | import_order << 64 | cid)[3:])
        )
    return free, others


def _held_back(
    cid: int,
    import_order: int,
    segment_id: int | None,
    tz: str,
    over_limit: bool,
    until: int | None,
) -> Entry:
    """A plain customer that is not free: cooling down until `until`, or at the attempt
    limit (stop) when None."""
    seg = str(segment_id) if segment_id else UNSEGMENTED
    c = str(cid)
    if until is None:
        return (c, f"limit|{seg}|{tz}|||", seg, "limit:" + seg, c, None)
    rank = plain_rank(over_limit=over_limit, import_order=import_order, customer_id=cid)
    return (c, f"cool|{seg}|{tz}|{rank}|{until}|", seg, f"cool:{seg}|{tz}", c, until)


# A bit above the rank's 33 hex digits, so that hex() writes the leading zeros as well; the
# digits then start after "0x1". One hex() of one int is about twice as fast as formatting
# the two ids, and a rebuild ranks a million customers.
_RANK_MARK = 1 << 132


def plain_rank(*, over_limit: bool, import_order: int, customer_id: int) -> str:
    """encode_rank of a customer without sort keys: the over-limit flag, then import order
    and customer id in 16 hex digits each (both below 2**63, as database ids are)."""
    return hex(_RANK_MARK | over_limit << 128 | import_order << 64 | customer_id)[3:]


class PlacementSource(Protocol):
    """What decides a customer's place; built by the caller from its own records."""

    @property
    def customer_id(self) -> int: ...
    @property
    def segment_id(self) -> int | None: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def state_kind(self) -> str: ...  # "free" | "progressive" | "final"
    @property
    def followup_kind(self) -> str | None: ...  # "personal" | "shared" | None
    @property
    def followup_due_ms(self) -> int | None: ...
    @property
    def followup_owner(self) -> int | None: ...
    @property
    def blocked(self) -> bool: ...
    @property
    def over_attempt_limit(self) -> bool: ...
    @property
    def stop_at_limit(self) -> bool: ...
    @property
    def cooldown_until_ms(self) -> int | None: ...
    @property
    def sort_values(self) -> Sequence[SortValue]: ...
    @property
    def import_order(self) -> int: ...


def compute_placement(src: PlacementSource, *, now_ms: int) -> Placement:
    """Rules 10, 12, 19-21 as a place: follow-ups by time, free customers by rank."""
    segment = str(src.segment_id) if src.segment_id else UNSEGMENTED
    if src.state_kind == "final":
        return Placement("park", segment, src.time_zone)
    if src.blocked:
        return Placement("blocked", segment, src.time_zone)
    if src.followup_due_ms is not None and src.followup_kind == "personal":
        owner = src.followup_owner
        return Placement("pfu", segment, src.time_zone, due_ms=src.followup_due_ms, owner=owner)
    if src.followup_due_ms is not None and src.followup_kind == "shared":
        return Placement("sfu", segment, src.time_zone, due_ms=src.followup_due_ms)
    if src.state_kind != "free":
        return Placement("park", segment, src.time_zone)
    if src.over_attempt_limit and src.stop_at_limit:
        return Placement("limit", segment, src.time_zone)
    rank = encode_rank(
        src.sort_values,
        over_limit=src.over_attempt_limit,
        import_order=src.import_order,
        customer_id=src.customer_id,
    )
    cooldown = src.cooldown_until_ms
    if cooldown is not None and cooldown > now_ms:
        return Placement("cool", segment, src.time_zone, rank=rank, due_ms=cooldown)
    return Placement("free", segment, src.time_zone, rank=rank)


def encode_rank(
    values: Sequence[SortValue], *, over_limit: bool, import_order: int, customer_id: int
) -> str:
    """A fixed-width lowercase hex string whose byte order is the serving order.

    Free customers wait in a sorted set with equal scores, which Redis keeps in byte order,
    so any number of sort keys of any type fit one O(log n) structure. The last 16 digits are
    the customer id, which the claim script reads back.
    """
    plain = plain_rank(over_limit=over_limit, import_order=import_order, customer_id=customer_id)
    if not values:
        return plain
    keys = "".join(_encode_value(value, direction) for value, direction in values)
    return plain[0] + keys + plain[1:]


def _encode_value(value: float | str | date | datetime | None, direction: Direction) -> str:
    if value is None:
        # "1" then zeros: after every present value, whatever the direction.
        return "1" + "0" * 24
    if isinstance(value, datetime):
        body = _encode_number(value.timestamp())
    elif isinstance(value, date):
        body = _encode_number(float(value.toordinal()))
    elif isinstance(value, str):
        raw = value.casefold().encode()[:_TEXT_BYTES].ljust(_TEXT_BYTES, b"\0")
        body = raw.hex()
    else:
        body = _encode_number(float(value)).rjust(24, "0")
    body = body.rjust(24, "0")
    if direction == "desc":
        body = "".join(f"{15 - int(c, 16):x}" for c in body)
    return "0" + body


def _encode_number(number: float) -> str:
    """IEEE 754 bits, flipped so that byte order equals numeric order."""
    number += 0.0  # -0.0 becomes 0.0: equal numbers must tie (their bits differ)
    (bits,) = struct.unpack(">Q", struct.pack(">d", number))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return f"{bits:016x}"
