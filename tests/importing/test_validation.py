"""Checking rows: customer fields, custom fields by type, unknown columns."""

from typing import Any

import pytest

from shared.importing import CustomerRow, FieldRule, FieldRules, RawRow, RowError, RowValidator
from shared.importing.validation import RowProblem, custom_value, email, time_zone
from shared.models import FieldType

RULES = FieldRules(
    {
        "score": FieldRule("score", FieldType.number),
        "born": FieldRule("born", FieldType.date),
        "site": FieldRule("site", FieldType.link),
        "work_mail": FieldRule("work_mail", FieldType.email),
        "mobile": FieldRule("mobile", FieldType.phone),
        "note": FieldRule("note", FieldType.text),
    }
)


def check(values: dict[str, Any], *, line: int = 2) -> CustomerRow | RowError:
    return RowValidator(RULES).validate(RawRow(line, values))


def accepted(values: dict[str, Any]) -> CustomerRow:
    row = check(values)
    assert isinstance(row, CustomerRow), row
    return row


def rejected(values: dict[str, Any]) -> RowError:
    row = check(values)
    assert isinstance(row, RowError), row
    return row


class TestRowValidator:
    def test_keeps_only_the_given_fields_normalised(self) -> None:
        row = accepted(
            {
                "external_id": " c1 ",
                "first_name": "Åse",
                "last_name": "",
                "phone": "22 33 44 55",
                "email": "Ase@Example.NO",
                "time_zone": "Europe/Oslo",
                "segment": "North",
            }
        )
        assert row.external_id == "c1"
        assert row.fields == {
            "first_name": "Åse",
            "phone_1": "+4722334455",
            "email": "Ase@example.no",
            "time_zone": "Europe/Oslo",
        }
        assert row.segment == "North"

    def test_phone_1_wins_over_the_phone_alias(self) -> None:
        row = accepted({"external_id": "c1", "phone": "22334455", "phone_1": "+46 8 123 456 78"})
        assert row.fields == {"phone_1": "+46812345678"}

    def test_a_missing_external_id_rejects_the_row(self) -> None:
        error = rejected({"external_id": "  ", "first_name": "Ada"})
        assert (error.line, error.external_id, error.reason) == (2, None, "external_id is missing")

    def test_an_overlong_external_id_rejects_the_row(self) -> None:
        assert "longer than 200" in rejected({"external_id": "x" * 201}).reason

    def test_an_invalid_phone_rejects_the_row_with_the_reason(self) -> None:
        error = rejected({"external_id": "c1", "phone_2": "12"})
        assert error.external_id == "c1"
        assert error.reason.startswith("phone_2: '12' is not")

    def test_an_invalid_email_rejects_the_row(self) -> None:
        assert "not an e-mail address" in rejected({"external_id": "c1", "email": "a@b"}).reason

    def test_an_unknown_time_zone_rejects_the_row(self) -> None:
        error = rejected({"external_id": "c1", "time_zone": "Mars/Olympus"})
        assert "not a known time zone" in error.reason

    def test_reports_every_problem_of_a_row(self) -> None:
        error = rejected({"external_id": "c1", "email": "nope", "score": "many"})
        assert error.reason.count(";") == 1

    def test_undecodable_bytes_reject_the_row(self) -> None:
        error = rejected({"external_id": "c1", "first_name": "\udcff"})
        assert "not UTF-8" in error.reason

    def test_a_nul_character_rejects_the_row(self) -> None:
        assert "not text" in rejected({"external_id": "c1", "first_name": "a\x00b"}).reason

    def test_a_parse_error_is_reported_with_the_external_id(self) -> None:
        row = RowValidator(RULES).validate(RawRow(5, {"external_id": "c9"}, error="broken"))
        assert row == RowError(5, "c9", "broken")

    def test_reads_custom_fields_from_columns_and_a_custom_object(self) -> None:
        row = accepted({"external_id": "c1", "score": "7", "custom": {"note": "hi"}})
        assert row.custom == {"score": 7, "note": "hi"}

    def test_reads_a_json_list_of_phones(self) -> None:
        row = accepted({"external_id": "c1", "phones": ["22334455", "+4722334456"]})
        assert row.fields == {"phone_1": "+4722334455", "phone_2": "+4722334456"}

    def test_reports_each_unknown_column_once(self) -> None:
        validator = RowValidator(RULES)
        for line in (2, 3):
            validator.validate(RawRow(line, {"external_id": f"c{line}", "colour": "red"}))
        assert validator.warnings == ["column 'colour' is not a customer field and was ignored"]

    def test_quotes_unstorable_input_in_reasons_and_warnings_safely(self) -> None:
        validator = RowValidator(RULES)
        error = validator.validate(RawRow(2, {"external_id": "c1", "score": "1\x00", "\udcff": 1}))
        assert isinstance(error, RowError)
        assert error.reason == "score: '1\ufffd' is not a number"
        assert validator.warnings == ["column '\ufffd' is not a customer field and was ignored"]

    def test_a_number_too_large_for_a_float_rejects_the_row(self) -> None:
        assert "too large" in rejected({"external_id": "c1", "score": 10**400}).reason

    def test_a_json_number_as_external_id_is_text(self) -> None:
        assert accepted({"external_id": 1234}).external_id == "1234"

    def test_a_json_object_in_a_text_field_rejects_the_row(self) -> None:
        assert "must be text" in rejected({"external_id": "c1", "first_name": {"a": 1}}).reason


class TestCustomValue:
    @pytest.mark.parametrize(
        ("type", "raw", "stored"),
        [
            (FieldType.number, "12", 12),
            (FieldType.number, " -3.5 ", -3.5),
            (FieldType.number, 4.0, 4),
            (FieldType.date, "2024-02-29", "2024-02-29"),
            (FieldType.email, "A@B.NO", "A@b.no"),
            (FieldType.phone, "22 33 44 55", "+4722334455"),
            (FieldType.link, "https://example.no/x?y=1", "https://example.no/x?y=1"),
            (FieldType.text, "  anything  ", "anything"),
            (FieldType.text, "", None),
            (FieldType.number, None, None),
        ],
    )
    def test_accepts_and_normalises(self, type: FieldType, raw: Any, stored: Any) -> None:
        assert custom_value(FieldRule("f", type), raw) == stored

    @pytest.mark.parametrize(
        ("type", "raw"),
        [
            (FieldType.number, "12,5"),
            (FieldType.number, "nan"),
            (FieldType.number, True),
            (FieldType.date, "2023-02-29"),
            (FieldType.date, "29.02.2024"),
            (FieldType.email, "a@@b.no"),
            (FieldType.phone, "abc"),
            (FieldType.link, "ftp://example.no"),
            (FieldType.link, "https://"),
            (FieldType.link, "javascript:alert(1)"),
            (FieldType.text, "x" * 4001),
        ],
    )
    def test_rejects(self, type: FieldType, raw: Any) -> None:
        with pytest.raises(RowProblem):
            custom_value(FieldRule("f", type), raw)


class TestEmail:
    @pytest.mark.parametrize("address", ["ola.nordmann@example.no", "a+b@sub.ørsta.no"])
    def test_accepts(self, address: str) -> None:
        assert email(address) == address

    @pytest.mark.parametrize(
        "address", ["plain", "a@b", "a b@c.no", ".a@b.no", "a..b@c.no", "a@-b.no", "a@b..no"]
    )
    def test_rejects(self, address: str) -> None:
        with pytest.raises(RowProblem):
            email(address)


class TestTimeZone:
    def test_accepts_zoneinfo_names(self) -> None:
        assert time_zone("America/New_York") == "America/New_York"

    @pytest.mark.parametrize("name", ["CET+1", "../etc/passwd", "europe/oslo", ""])
    def test_rejects_others(self, name: str) -> None:
        with pytest.raises(RowProblem):
            time_zone(name)
