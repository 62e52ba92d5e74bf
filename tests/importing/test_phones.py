"""The import's phone shortcut answers exactly as the full parse does."""

import random

import pytest

from shared.customers.phones import InvalidPhone, normalise_phone
from shared.importing.phones import PhoneNormaliser


def _answer(normalise: object, raw: str) -> str | None:
    assert callable(normalise)
    try:
        result = normalise(raw)
    except InvalidPhone:
        return None
    assert isinstance(result, str)
    return result


def _numbers(count: int) -> list[str]:
    """International and national numbers of every length, leading zeros, separators."""
    rnd = random.Random(7)
    out = []
    for _ in range(count):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 19)))
        shape = rnd.randrange(5)
        if shape == 0:
            raw = f"+{rnd.randint(1, 999)}{digits}"
        elif shape == 1:
            raw = f"+{digits}"
        elif shape == 2:
            raw = digits
        elif shape == 3:
            raw = "0" * rnd.randint(1, 3) + digits
        else:
            raw = f"{digits[:2]} {digits[2:5]}-{digits[5:]}"
        out.append(raw)
    return out


def test_equals_the_full_parse_on_every_shape() -> None:
    fast = PhoneNormaliser()
    numbers = [*_numbers(5000), "+4722334455", "22334455", "004722334455", "4722334455"]
    answers = [(raw, _answer(fast.normalise, raw)) for raw in numbers]
    assert answers == [(raw, _answer(normalise_phone, raw)) for raw in numbers]
    assert sum(1 for _, a in answers if a is not None) > 500  # not only rejections


def test_learns_a_shape_once() -> None:
    fast = PhoneNormaliser()
    assert fast.normalise("+47 22 33 44 55") == "+4722334455"
    assert fast.normalise("40000001") == "+4740000001"
    assert fast._verdicts == {("47", 8): True}
    with pytest.raises(InvalidPhone):
        fast.normalise("+47123")
    assert fast._verdicts[("47", 3)] is False


def test_a_region_with_a_national_prefix_takes_the_full_parse() -> None:
    fast = PhoneNormaliser()
    assert fast.normalise("+46 08 123 456 78") == normalise_phone("+46 08 123 456 78")
    assert not any(code == "46" for code, _ in fast._verdicts)
