"""Which language a user reads labels in: their profile's, else the request's Accept-Language,
else English.

A small parser rather than a library: the pipeline speaks three languages, and the header's
grammar (RFC 9110 12.5.4: comma-separated ranges with optional ";q=" weights) takes a few lines;
babel would add megabytes of locale data for a lookup among three codes.
"""

from shared.pipeline.labels import DEFAULT_LANGUAGE, LANGUAGES

# Norwegian: "no" and "nn" readers are served Bokmål, the only Norwegian the labels have.
_ALIASES = {"no": "nb", "nn": "nb"}
# A header longer than this is not read (it is a client's list of preferences, not data).
MAX_HEADER = 500


def supported(tag: str | None) -> str | None:
    """The supported language of a tag ("fr-BE" -> "fr", "nb_NO" -> "nb"), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str | None) -> str | None:
    """The supported language the header prefers most (ties: the first listed), or None."""
    if not header or len(header) > MAX_HEADER:
        return None
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")):
        tag, *params = item.split(";")
        language = supported(tag)
        weight = _weight(params)
        if language is None or weight <= 0:
            continue
        candidate = (-weight, position, language)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def choose(profile_language: str | None, accept_language: str | None) -> str:
    """The profile's language when the labels have it, else the header's, else English."""
    return supported(profile_language) or from_accept_language(accept_language) or DEFAULT_LANGUAGE
