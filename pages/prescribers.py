"""Who hands out the pass numérique in each commune, from the ``prescripteur`` column of the
pass files: organisation names only.

A pass file may hold a person where an organisation is expected (« Mme Durand », « Jean
Martin, CCAS », an e-mail or a phone number). Such a value is never published: a value is
kept only when it names a kind of organisation (CCAS, France Services, mission locale…), holds
no civility, e-mail address or phone number, and was seen on at least ``MIN_PASSES`` passes
of the commune (a rare spelling is more likely a slip than an organisation residents can go
to).
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from pipeline.contracts.model import normalize_header

MIN_PASSES = 3
# Words (without case or accents) that name an organisation rather than a person.
ORGANISATION_WORDS = (
    "ccas", "cias", "mairie", "ville", "commune", "france services", "france travail",
    "pole emploi", "mission locale", "maison", "association", "asso", "centre", "caf", "cpam",
    "msa", "carsat", "secours", "croix rouge", "emmaus", "restos du coeur", "udaf",
    "mediatheque", "bibliotheque", "espace", "service", "departement", "conseil",
    "agglomeration", "agence", "point", "relais", "foyer", "residence", "epn", "cyberbase",
    "tiers lieu", "fablab", "solidarite", "social", "sociale", "insertion", "club", "cite",
    "bailleur", "habitat", "office", "prefecture", "sous prefecture", "ecole", "college",
    "lycee", "universite", "hopital", "clinique", "ehpad", "plie", "cap emploi",
)
_CIVILITY = re.compile(r"(^|[\s,(])(m|mme|mlle|mr|melle|monsieur|madame|mademoiselle|dr|docteur|pr)"
                       r"([\s.]|$)", re.IGNORECASE)
_EMAIL = re.compile(r"@|\b[\w.-]+\s*(\[at\]|\(at\))\s*[\w.-]+", re.IGNORECASE)
_PHONE = re.compile(r"(\+\d[\d\s.-]{6,}|\d[\d\s.-]{7,}\d)")


def is_organisation(value: object) -> bool:
    """Whether a prescriber value can be published: it names an organisation and nothing
    that reaches a person."""
    if not isinstance(value, str) or not value.strip():
        return False
    if _CIVILITY.search(value) or _EMAIL.search(value) or _PHONE.search(value):
        return False
    words = f" {normalize_header(value).replace('_', ' ')} "
    return any(f" {word} " in words for word in ORGANISATION_WORDS)


def prescribers_by_commune(rows: pd.DataFrame, communes: dict[str, str],
                           minimum: int = MIN_PASSES) -> list[dict]:
    """``[{"commune", "nom_commune", "prescripteurs": [names]}]`` in commune-name order, from
    pass rows with ``prescripteur`` and ``commune``. Spellings that differ only in case,
    accents or punctuation are one organisation, shown in its most frequent spelling."""
    if rows.empty:
        return []
    return _listed(rows.groupby(["commune", "prescripteur"]).size(), communes, minimum)


def prescribers_from_counts(counts: pd.DataFrame, communes: dict[str, str],
                            minimum: int = MIN_PASSES) -> list[dict]:
    """``prescribers_by_commune`` from the passes counted in the database
    (``warehouse.current_counts``: ``lignes`` per file, ``commune`` and ``prescripteur``)."""
    if counts.empty:
        return []
    return _listed(counts.groupby(["commune", "prescripteur"])["lignes"].sum(), communes,
                   minimum)


def _listed(numbers: pd.Series, communes: dict[str, str], minimum: int) -> list[dict]:
    """From the passes per (commune, prescriber value)."""
    counts: dict[tuple[str, str], Counter] = {}
    for (commune, value), number in numbers.items():
        if commune in communes and is_organisation(value):
            name = " ".join(value.split())
            counts.setdefault((commune, normalize_header(name)), Counter())[name] += int(number)
    listed: dict[str, list[str]] = {}
    for (commune, _key), spellings in counts.items():
        if sum(spellings.values()) >= minimum:
            listed.setdefault(commune, []).append(
                min(spellings, key=lambda s: (-spellings[s], s)))
    return [{"commune": code, "nom_commune": name,
             "prescripteurs": sorted(listed[code], key=normalize_header)}
            for code, name in sorted(communes.items(), key=lambda item: item[1]) if code in listed]
