"""iCalendar files (RFC 5545) for upcoming workshops, with the ``icalendar`` library: one file
per workshop and feeds per commune and for the territory, in the territory's time zone.

Each event is serialised once per build and the same bytes go into the workshop's own file and
into every feed that lists it; the time-zone block is computed once per year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

PRODID = "-//Numérique pour tous//Ateliers numériques//FR"
END = b"END:VCALENDAR\r\n"


def event_ical(session: dict, timezone: str, domain: str, fallback_stamp: datetime) -> bytes:
    """One VEVENT. Its DTSTAMP is when the partner's file carrying it was received, so an
    unchanged workshop gives the same bytes from one build to the next."""
    zone = ZoneInfo(timezone)
    start = datetime.fromisoformat(f"{session['date']}T{session['heure']}").replace(tzinfo=zone)
    modified = session.get("modifie_le")
    stamp = datetime.fromisoformat(modified).astimezone(UTC) if modified else fallback_stamp
    event = Event()
    event.add("uid", f"{session['partner']}-{session['id']}@{domain}")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session["duree_minutes"]))
    event.add("summary", f"Atelier numérique : {session['thematique']}")
    place = ", ".join(p for p in (session["lieu"], session.get("adresse"), session["nom_commune"]) if p)
    event.add("location", place)
    event.add("description", f"Atelier gratuit. Public : {session['public']}. "
                             f"Inscription : {session['inscription']}.")
    return event.to_ical()


@lru_cache(maxsize=8)
def _timezone_block(timezone: str, first_year: int) -> bytes:
    # A VTIMEZONE covering only the feed's years keeps files small for old phones.
    return Timezone.from_tzid(timezone, first_date=date(first_year, 1, 1),
                              last_date=date(first_year + 3, 1, 1)).to_ical()


def assemble(events: list[bytes], name: str, timezone: str, first_year: int) -> bytes:
    """A calendar named ``name`` holding already serialised events."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    head = cal.to_ical()
    return (head.removesuffix(END) + _timezone_block(timezone, first_year) + b"".join(events)
            + END)


def calendar(sessions: list[dict], name: str, timezone: str, domain: str,
             stamp: datetime) -> bytes:
    events = [event_ical(s, timezone, domain, stamp) for s in sessions]
    return assemble(events, name, timezone, stamp.year)
