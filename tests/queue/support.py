"""A plain PlacementSource for the queue engine's tests, and helpers built on it."""

from dataclasses import dataclass

from services.queue import Placement, SortValue, compute_placement

NOW = 1_700_000_000_000  # a fixed virtual "now" in ms; tests pass now= instead of sleeping


@dataclass(frozen=True)
class Src:
    """The facts that decide a customer's place, as the caller would build them."""

    customer_id: int = 1
    segment_id: int | None = None
    time_zone: str = "UTC"
    state_kind: str = "free"
    followup_kind: str | None = None
    followup_due_ms: int | None = None
    followup_owner: int | None = None
    blocked: bool = False
    over_attempt_limit: bool = False
    stop_at_limit: bool = False
    cooldown_until_ms: int | None = None
    sort_values: tuple[SortValue, ...] = ()
    import_order: int = 0


def place_of(src: Src, *, now: int = NOW) -> Placement:
    return compute_placement(src, now_ms=now)


def free(
    cid: int, score: float = 0.0, *, segment: int | None = None, tz: str = "UTC"
) -> tuple[int, Placement]:
    """A free customer ordered by one number, ascending (lower score is served first)."""
    src = Src(
        customer_id=cid,
        segment_id=segment,
        time_zone=tz,
        sort_values=((score, "asc"),),
        import_order=cid,
    )
    return cid, place_of(src)


def shared_fu(cid: int, due_ms: int, *, segment: int | None = None) -> tuple[int, Placement]:
    src = Src(customer_id=cid, segment_id=segment, followup_kind="shared", followup_due_ms=due_ms)
    return cid, place_of(src)


def personal_fu(
    cid: int, due_ms: int, owner: int, *, segment: int | None = None
) -> tuple[int, Placement]:
    src = Src(
        customer_id=cid,
        segment_id=segment,
        state_kind="progressive",
        followup_kind="personal",
        followup_due_ms=due_ms,
        followup_owner=owner,
    )
    return cid, place_of(src)


def cooling(cid: int, until_ms: int, score: float = 0.0) -> tuple[int, Placement]:
    src = Src(
        customer_id=cid,
        sort_values=((score, "asc"),),
        import_order=cid,
        cooldown_until_ms=until_ms,
    )
    return cid, place_of(src)
