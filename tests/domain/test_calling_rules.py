"""Calling rules (rule 33): weekly windows, public holidays, closed days, in the customer's
own zone; the Norwegian and French presets; where a customer's zone comes from."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.calling.evaluate import ZoneClock, first_allowed, status
from shared.calling.rules import CallingRules, effective_rules, from_contact_hours, preset
from shared.calling.zones import parse_zone, zone_key

OSLO_ZONE = "Europe/Oslo@NO"
PARIS_ZONE = "Europe/Paris@FR"
NORWAY = preset("NO")
FRANCE = preset("FR")


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Oslo"))


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


class TestNorway:
    def test_a_weekday_opens_at_nine_and_closes_at_nine_in_the_evening(self) -> None:
        # Thursday 10 June 2027.
        assert not status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 8, 59)).open
        assert status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 9, 0)).open
        assert status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 20, 59)).open
        assert not status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 21, 0)).open

    def test_an_open_zone_says_when_it_closes_and_a_closed_one_when_it_opens(self) -> None:
        assert status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 12, 0)).until == oslo(2027, 6, 10, 21)
        assert status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 8, 59)).until == oslo(2027, 6, 10, 9)

    @pytest.mark.parametrize(
        ("day", "opens"),
        [
            (oslo(2028, 5, 17, 12), oslo(2028, 5, 18, 9)),  # Constitution Day, a Wednesday
            (oslo(2027, 3, 29, 12), oslo(2027, 3, 30, 9)),  # Easter Monday
            (oslo(2027, 6, 12, 12), oslo(2027, 6, 14, 9)),  # a Saturday: Monday at nine
            (oslo(2027, 6, 13, 12), oslo(2027, 6, 14, 9)),  # a Sunday
        ],
    )
    def test_no_calls_on_holidays_saturdays_or_sundays(
        self, day: datetime, opens: datetime
    ) -> None:
        found = status(NORWAY, OSLO_ZONE, day)
        assert (found.open, found.until) == (False, opens)

    def test_a_friday_evening_waits_for_monday_morning(self) -> None:
        assert first_allowed(NORWAY, OSLO_ZONE, oslo(2027, 6, 11, 21, 30)) == oslo(2027, 6, 14, 9)

    def test_the_tenants_closed_days_close_too(self) -> None:
        closed = {date(2027, 6, 10)}
        found = status(NORWAY, OSLO_ZONE, oslo(2027, 6, 10, 12), closed_days=closed)
        assert (found.open, found.until) == (False, oslo(2027, 6, 11, 9))

    def test_the_customers_country_decides_the_holidays(self) -> None:
        # 17 May is no holiday in France: a French customer living in Oslo time may be called.
        assert status(NORWAY, "Europe/Oslo@FR", oslo(2028, 5, 17, 12)).open

    def test_the_preset_names_its_source(self) -> None:
        assert "Markedsføringsloven" in NORWAY.source


class TestFrance:
    def test_weekdays_ten_to_one_and_two_to_eight(self) -> None:
        # Thursday 10 June 2027.
        verdicts = {
            (h, m): status(FRANCE, PARIS_ZONE, paris(2027, 6, 10, h, m)).open
            for h, m in [(9, 59), (10, 0), (12, 59), (13, 0), (13, 59), (14, 0), (19, 59), (20, 0)]
        }
        assert verdicts == {
            (9, 59): False,
            (10, 0): True,
            (12, 59): True,
            (13, 0): False,
            (13, 59): False,
            (14, 0): True,
            (19, 59): True,
            (20, 0): False,
        }
        assert status(FRANCE, PARIS_ZONE, paris(2027, 6, 10, 13, 0)).until == paris(2027, 6, 10, 14)

    def test_no_calls_on_saturdays_nor_on_the_fourteenth_of_july(self) -> None:
        assert not status(FRANCE, PARIS_ZONE, paris(2027, 6, 12, 11)).open
        found = status(FRANCE, PARIS_ZONE, paris(2027, 7, 14, 11))  # a Wednesday
        assert (found.open, found.until) == (False, paris(2027, 7, 15, 10))

    def test_the_preset_names_its_source(self) -> None:
        assert "D. 223-9" in FRANCE.source


class TestRulesAsData:
    def test_a_preset_may_be_adjusted(self) -> None:
        rules = CallingRules.model_validate({"preset": "NO", "public_holidays": False})
        assert rules.weekly == NORWAY.weekly
        assert status(rules, OSLO_ZONE, oslo(2028, 5, 17, 12)).open

    @pytest.mark.parametrize(
        "weekly",
        [
            {"mon": [{"start": "10:00", "end": "09:00"}]},
            {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]},
            {"mon": [{"start": "9:00", "end": "12:00"}]},
            {"monday": [{"start": "09:00", "end": "12:00"}]},
        ],
    )
    def test_bad_schedules_are_refused(self, weekly: object) -> None:
        with pytest.raises(ValidationError):
            CallingRules.model_validate({"weekly": weekly})

    def test_contact_hours_are_a_one_window_schedule(self) -> None:
        rules = from_contact_hours("22:00", "02:00")  # across midnight
        assert status(rules, "UTC", datetime(2027, 5, 17, 23, 0, tzinfo=UTC)).open
        assert status(rules, "UTC", datetime(2027, 5, 17, 1, 59, tzinfo=UTC)).open
        found = status(rules, "UTC", datetime(2027, 5, 17, 2, 0, tzinfo=UTC))
        assert (found.open, found.until) == (False, datetime(2027, 5, 17, 22, 0, tzinfo=UTC))

    def test_an_assignment_without_rules_or_hours_calls_any_time(self) -> None:
        class Plain:
            calling_rules = None
            contact_hours_start = None
            contact_hours_end = None

        assert effective_rules(Plain()) is None

    def test_an_unknown_zone_is_never_called(self) -> None:
        found = status(NORWAY, "Europe", oslo(2027, 6, 10, 12))
        assert (found.open, found.until) == (False, None)

    def test_the_clock_keeps_a_verdict_until_it_changes(self) -> None:
        clock = ZoneClock(NORWAY)
        at = oslo(2027, 6, 10, 8, 59)
        assert clock.split([OSLO_ZONE, PARIS_ZONE], at) == (
            [],
            {
                OSLO_ZONE: int(oslo(2027, 6, 10, 9).timestamp() * 1000),
                PARIS_ZONE: int(paris(2027, 6, 10, 9).timestamp() * 1000),
            },
        )
        assert clock.split([OSLO_ZONE], oslo(2027, 6, 10, 9, 0))[0] == [OSLO_ZONE]
        # Asked for an earlier time again (a test's clock), it works the answer out anew.
        assert clock.split([OSLO_ZONE], at)[0] == []


class TestZones:
    def test_the_customers_own_time_zone_and_country_come_first(self) -> None:
        key = zone_key(
            time_zone="America/Cayenne",
            country="GF",
            phones=["+4722334455"],
            default_time_zone="UTC",
            default_country="NO",
        )
        assert key == "America/Cayenne@GF"

    def test_else_the_phone_numbers_region(self) -> None:
        found = zone_key(
            time_zone=None,
            country=None,
            phones=[None, "+33612345678"],
            default_time_zone="UTC",
            default_country="NO",
        )
        assert parse_zone(found) == parse_zone("Europe/Paris@FR")

    def test_else_the_assignments_time_zone_and_the_tenants_region(self) -> None:
        found = zone_key(
            time_zone=None,
            country=None,
            phones=[],
            default_time_zone="Europe/Oslo",
            default_country="NO",
        )
        assert found == OSLO_ZONE

    def test_a_calling_code_of_many_time_zones_gives_none(self) -> None:
        found = zone_key(
            time_zone=None,
            country=None,
            phones=["+12125550123"],
            default_time_zone="UTC",
            default_country="NO",
        )
        assert found == "UTC@US"
