"""transforms/calendar.py: iCalendar feeds of upcoming workshops, read back with ``icalendar``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from pages.calendar import assemble, calendar, event_ical

PARIS = ZoneInfo("Europe/Paris")
STAMP = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
SESSION = {"partner": "ville-palaiseau", "id": "PAL-1", "date": "2026-12-01", "heure": "10:00",
           "duree_minutes": 90, "thematique": "Prise en main du smartphone",
           "lieu": "Médiathèque George Sand", "adresse": "1 rue de Paris",
           "nom_commune": "Palaiseau", "public": "Seniors", "inscription": "Mairie, 01 69 31 00 00",
           "modifie_le": "2026-11-20T08:15:00+01:00"}


def events(data: bytes) -> list:
    return Calendar.from_ical(data).walk("VEVENT")


def test_an_event_is_in_paris_time_and_lasts_its_duration():
    (event,) = events(calendar([SESSION], "Ateliers", "Europe/Paris", "example.org", STAMP))
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert start == datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    assert str(start.tzinfo) == "Europe/Paris"
    assert end - start == timedelta(minutes=90)
    assert str(event["UID"]) == "ville-palaiseau-PAL-1@example.org"
    assert str(event["SUMMARY"]) == "Atelier numérique : Prise en main du smartphone"
    assert str(event["LOCATION"]) == "Médiathèque George Sand, 1 rue de Paris, Palaiseau"
    assert str(event["DESCRIPTION"]) == ("Atelier gratuit. Public : Seniors. "
                                         "Inscription : Mairie, 01 69 31 00 00.")


def test_a_summer_session_keeps_its_wall_clock_time():
    summer = {**SESSION, "date": "2026-07-01", "heure": "14:30"}
    (event,) = events(calendar([summer], "Ateliers", "Europe/Paris", "example.org", STAMP))
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)


def test_the_stamp_is_when_the_partner_file_came_so_an_unchanged_workshop_gives_the_same_bytes():
    first = event_ical(SESSION, "Europe/Paris", "example.org", STAMP)
    later = event_ical(SESSION, "Europe/Paris", "example.org", STAMP + timedelta(days=3))
    assert first == later
    (event,) = events(assemble([first], "x", "Europe/Paris", 2026))
    assert event["DTSTAMP"].dt == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)


def test_without_a_modification_time_the_build_stamp_is_used():
    session = {**SESSION, "modifie_le": None}
    (event,) = events(calendar([session], "x", "Europe/Paris", "example.org", STAMP))
    assert event["DTSTAMP"].dt == STAMP


def test_a_missing_address_leaves_no_empty_part_in_the_location():
    session = {**SESSION, "adresse": None}
    (event,) = events(calendar([session], "x", "Europe/Paris", "example.org", STAMP))
    assert str(event["LOCATION"]) == "Médiathèque George Sand, Palaiseau"


def test_a_feed_holds_its_events_in_order_with_one_timezone_block():
    second = {**SESSION, "id": "PAL-2", "date": "2026-12-08"}
    data = calendar([SESSION, second], "Ateliers à Palaiseau", "Europe/Paris", "example.org",
                    STAMP)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert data.count(b"BEGIN:VCALENDAR") == 1 and data.count(b"END:VCALENDAR") == 1
    feed = Calendar.from_ical(data)
    assert str(feed["X-WR-CALNAME"]) == "Ateliers à Palaiseau"
    assert str(feed["VERSION"]) == "2.0"
    (zone,) = feed.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Paris"
    assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [
        "ville-palaiseau-PAL-1@example.org", "ville-palaiseau-PAL-2@example.org"]


def test_the_same_event_bytes_go_into_every_feed():
    one = event_ical(SESSION, "Europe/Paris", "example.org", STAMP)
    feed = assemble([one], "Palaiseau", "Europe/Paris", 2026)
    territory = assemble([event_ical({**SESSION, "id": "X"}, "Europe/Paris", "example.org", STAMP),
                          one], "Territoire", "Europe/Paris", 2026)
    assert one in feed and one in territory


def test_an_empty_feed_is_still_a_valid_calendar():
    data = calendar([], "Aucun atelier", "Europe/Paris", "example.org", STAMP)
    feed = Calendar.from_ical(data)
    assert feed.walk("VEVENT") == [] and str(feed["X-WR-CALNAME"]) == "Aucun atelier"
