"""Refusing personal data of participants and beneficiaries.

Files must never carry names, e-mails or phone numbers of the people helped. Public contact
details of a venue or of a registration desk are allowed where the contract says so (columns
listed in ``PUBLIC_CONTACT_COLUMNS``).
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.reading import normalize_header

PERSONAL_HEADER_WORDS = {
    "nom", "prenom", "prenoms", "nom_prenom", "nom_complet", "beneficiaire", "beneficiaires",
    "participant", "participants_noms", "usager", "email", "e_mail", "mail", "courriel",
    "telephone", "tel", "portable", "mobile_participant", "date_de_naissance", "naissance",
    "date_naissance", "adresse_beneficiaire", "adresse_personnelle", "nir", "numero_secu",
    "numero_de_securite_sociale", "civilite",
}
# Columns whose contact details are public by nature (venue directory, registration desk).
PUBLIC_CONTACT_COLUMNS = {
    "ateliers": {"inscription"},
    "lieux": {"telephone", "courriels", "site_web", "nom", "commune"},
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
MOBILE = re.compile(r"(?<!\d)(?:\+33\s?|0)[67](?:[\s.-]?\d{2}){4}(?!\d)")


def personal_headers(headers: list[str], dataset: str) -> list[str]:
    allowed = PUBLIC_CONTACT_COLUMNS.get(dataset, set())
    found = []
    for header in headers:
        key = normalize_header(header)
        if key in allowed:
            continue
        if key in PERSONAL_HEADER_WORDS or any(part in {"prenom", "beneficiaire", "naissance"}
                                               for part in key.split("_")):
            found.append(str(header))
    return found


def personal_values(frame: pd.DataFrame, dataset: str, text_columns: list[str]) -> list[tuple[int, str, str]]:
    """(line, column, value) of cells holding an e-mail or a mobile number where none belongs."""
    allowed = PUBLIC_CONTACT_COLUMNS.get(dataset, set())
    found = []
    for column in text_columns:
        if column in allowed or column not in frame.columns:
            continue
        values = frame[column].astype("string")
        hits = values.str.contains(EMAIL, na=False) | values.str.contains(MOBILE, na=False)
        for line, value in zip(frame.loc[hits, "_ligne"], values[hits]):
            found.append((int(line), column, str(value)))
    return found
