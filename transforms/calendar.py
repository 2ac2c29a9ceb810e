"""iCalendar files (RFC 5545) for upcoming workshops, with the ``icalendar`` library: one file
per workshop and feeds per commune and for the territory, in Europe/Paris time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Numérique pour tous//Ateliers numériques//FR"


def _event(session: dict, zone: ZoneInfo, domain: str, stamp: datetime) -> Event:
    start = datetime.fromisoformat(f"{session['date']}T{session['heure']}").replace(tzinfo=zone)
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
    return event


def calendar(sessions: list[dict], name: str, timezone: str, domain: str,
             stamp: datetime) -> bytes:
    zone = ZoneInfo(timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    for session in sessions:
        cal.add_component(_event(session, zone, domain, stamp))
    # A VTIMEZONE covering only the feed's years keeps files small for old phones.
    first = stamp.date().replace(month=1, day=1)
    cal.add_missing_timezones(first_date=first, last_date=first.replace(year=first.year + 3))
    return cal.to_ical()
