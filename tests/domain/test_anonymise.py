"""Anonymisation (rule 5): what is blanked, and when it is refused."""

import pytest

from shared.errors import Conflict
from shared.membership.anonymise import (
    anonymous_external_id,
    blank_edit,
    blanked,
    may_anonymise,
)
from tests.domain.records import NOW


class TestAnonymise:
    def test_blanks_everything_that_names_the_person(self) -> None:
        values = blanked("anon-5", NOW)
        assert values["external_id"] == "anon-5"
        assert values["anonymised_at"] == NOW
        assert all(
            values[name] in ("", None, {})
            for name in values
            if name not in ("external_id", "anonymised_at")
        )
        assert {"first_name", "last_name", "phone_1", "email", "custom"} <= set(values)

    def test_the_external_id_gets_a_tail_when_taken(self) -> None:
        assert anonymous_external_id(5, taken=False, tail="ab12") == "anon-5"
        assert anonymous_external_id(5, taken=True, tail="ab12") == "anon-5-ab12"

    def test_an_edit_keeps_only_which_fields_changed(self) -> None:
        edit = {"changes": {"last_name": {"from": "Hansen", "to": "Berg"}, "city": {}}}
        assert blank_edit(edit) == {"fields": ["city", "last_name"]}
        assert blank_edit(None) == {"fields": []}

    def test_refused_twice_or_while_held(self) -> None:
        with pytest.raises(Conflict, match="already anonymised"):
            may_anonymise(5, anonymised_at=NOW, holder=None)
        with pytest.raises(Conflict, match="held by Kari") as held:
            may_anonymise(5, anonymised_at=None, holder=(7, "Kari"))
        assert held.value.extra == {"holder": {"id": 7, "name": "Kari"}}
        may_anonymise(5, anonymised_at=None, holder=None)
