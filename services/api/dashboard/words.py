"""Why an assignment's queue is empty, in words a supervisor reads at a glance (rule 13)."""

from zoneinfo import ZoneInfo

from services.api.dashboard.queue_figures import QueueFigures


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def why_empty(q: QueueFigures, tz: ZoneInfo) -> str:
    if q.servable_now:
        return f"{_n(q.servable_now, 'customer', 'customers')} ready to be served now."
    c, db = q.counts, q.database
    reasons = [
        (c.held, _n(c.held, "held by an agent", "held by agents")),
        (c.in_cooldown, f"{c.in_cooldown} cooling down after an attempt"),
        (q.outside_hours, f"{q.outside_hours} outside contact hours"),
        (c.blocked, f"{c.blocked} with every phone number blocked"),
        (c.at_attempt_limit, f"{c.at_attempt_limit} at the attempt limit"),
        (db.in_correction, f"{db.in_correction} waiting for a correction"),
        (
            q.personal_due,
            _n(q.personal_due, "personal follow-up due", "personal follow-ups due")
            + " (only their owners get them)",
        ),
    ]
    later = db.shared.later_today + db.personal.later_today
    if later and db.next_followup_at is not None:
        first = db.next_followup_at.astimezone(tz).strftime("%H:%M")
        reasons.append(
            (later, _n(later, "follow-up", "follow-ups") + f" later today, the first at {first}")
        )
    said = [text for count, text in reasons if count]
    if not said:
        return "The queue is empty: no customer is left to call in this assignment."
    return "Nobody can be served now: " + "; ".join(said) + "."
