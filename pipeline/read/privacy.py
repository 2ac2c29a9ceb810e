"""Refusing personal data of participants and beneficiaries.

Files must never carry names, e-mails, phone numbers, birth dates or social-security numbers of
the people helped. A header is judged by its words, compared without accents, case or
punctuation, because tools write them in many ways: « Nom du participant », « Adresse e-mail »,
« N° de téléphone », « Mail du bénéficiaire ». A column the dataset's contract declares (its
name, label or any alias) is never personal: contracts only hold public facts, such as a
venue's own telephone and e-mail (``tel``, ``courriel``…) or a registration desk's contact.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.contracts.datasets import contract_for
from pipeline.contracts.model import normalize_header
from pipeline.problems import Problem
from pipeline.read.reading import header_lookup, map_headers

PRIVACY_ADVICE = ("N'envoyez que des nombres et des contacts publics : retirez les noms, "
                  "adresses électroniques et numéros de téléphone des personnes, puis déposez "
                  "à nouveau le fichier.")
LEAK_RULE = ("Cette case semble contenir l'adresse électronique ou le numéro de portable d'une "
             "personne. Le fichier a été refusé et mis à l'écart.")

# Words that designate a person's identity wherever they appear.
IDENTITY_WORDS = {"prenom", "prenoms", "naissance", "civilite", "nir", "secu", "securite_sociale",
                  "nom_de_famille", "nom_complet", "nom_prenom", "prenom_nom"}
# A name, unless the header says whose: « Nom du lieu », « Nom de la structure ».
NAME_WORDS = {"nom", "noms", "name"}
CONTACT_WORDS = {"mail", "mails", "email", "emails", "courriel", "courriels", "telephone",
                 "telephones", "tel", "portable", "portables", "mobile", "gsm", "phone", "sms"}
# Words that say a column is about people helped, or private to them.
PERSON_WORDS = {"participant", "participants", "beneficiaire", "beneficiaires", "usager",
                "usagers", "apprenant", "apprenants", "stagiaire", "stagiaires", "personne",
                "habitant", "adherent", "inscrit", "personnel", "personnelle", "perso",
                "domicile", "famille", "client", "eleve"}
# Words that say a contact or a name belongs to a place or an organisation (public).
PLACE_WORDS = {"lieu", "lieux", "structure", "accueil", "mairie", "service", "standard",
               "organisme", "ccas", "mediatheque", "etablissement", "commune", "ville",
               "atelier", "seance", "partenaire", "point", "collecte", "prescripteur",
               "association", "site", "agence", "bureau", "guichet", "carnet", "pass"}
# Person words that alone (« Bénéficiaire », « Usager ») head a column of names.
LONE_PERSON_WORDS = {"participant", "beneficiaire", "usager", "apprenant", "stagiaire",
                     "personne", "habitant", "adherent", "inscrit", "eleve", "client"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
MOBILE = re.compile(r"(?<!\d)(?:\+33\s?|0)[67](?:[\s.-]?\d{2}){4}(?!\d)")
# ``MOBILE`` without its look-behind, which keeps the regex engine from skipping ahead to a
# « + » or a « 0 » (three times slower over a column's texts); checked after a match.
_MOBILE_FROM_START = re.compile(MOBILE.pattern.removeprefix(r"(?<!\d)"))
_DIGIT = re.compile(r"\d")


def _holds_mobile(text: str) -> bool:
    position = 0
    while match := _MOBILE_FROM_START.search(text, position):
        start = match.start()
        if start == 0 or not _DIGIT.match(text, start - 1):
            return True
        position = start + 1
    return False


def holds_email_or_mobile(text: str) -> bool:
    """``EMAIL`` or ``MOBILE`` found in the text; an address needs its « @ », which is cheap to
    look for (the address pattern alone backtracks over every word)."""
    return bool(("@" in text and EMAIL.search(text)) or _holds_mobile(text))


def _words(key: str) -> set[str]:
    """Single words and adjacent pairs (``securite_sociale``, ``nom_prenom``)."""
    words = key.split("_")
    return set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:])}


# Words of a count (« Nombre de participants », « Nb téléphones »): a number, not a person.
COUNT_WORDS = {"nombre", "nb", "nbre", "total", "quantite", "qte"}


def is_personal_header(header: str, subject_words: frozenset[str] = frozenset()) -> bool:
    """``subject_words``: words the dataset's own columns use (phones are what the pickup
    files count, not anyone's contact)."""
    words = _words(normalize_header(header))
    if words & IDENTITY_WORDS:
        return True
    if words & COUNT_WORDS:
        return False
    person, place = bool(words & PERSON_WORDS), bool(words & PLACE_WORDS)
    if person and words & (NAME_WORDS | CONTACT_WORDS):  # « Mail du bénéficiaire »
        return True
    if words & (NAME_WORDS | (CONTACT_WORDS - subject_words)):
        return not place
    if "adresse" in words and person:  # « Adresse du bénéficiaire »; « Adresse » is a venue's
        return True
    return normalize_header(header) in LONE_PERSON_WORDS


def _subject_words(dataset: str) -> frozenset[str]:
    return frozenset(word for variant in header_lookup(contract_for(dataset))
                     for word in variant.split("_"))


def personal_headers(headers: list[str], dataset: str) -> list[str]:
    contract, subject = contract_for(dataset), _subject_words(dataset)
    return [str(h) for h in headers
            if not map_headers([h], contract)[0] and is_personal_header(str(h), subject)]


def _leaking(texts: list[str]) -> list[int]:
    """The texts holding an e-mail or a mobile number. Searched first joined by NUL (neither
    pattern matches across it) in one pass: most columns hold neither."""
    joined = "\0".join(texts)
    if not holds_email_or_mobile(joined):
        return []
    return [n for n, text in enumerate(texts) if holds_email_or_mobile(text)]


def public_contact_columns(dataset: str) -> set[str]:
    """Columns whose contact details are public by nature, from the contract."""
    return {c.name for c in contract_for(dataset).columns
            if c.public_contact or c.type in ("phone", "email", "url")}


def personal_values(frame: pd.DataFrame, dataset: str, text_columns: list[str]) -> list[Problem]:
    """An error for each cell holding an e-mail or a mobile number where none belongs; the
    value is masked: the report must not repeat the personal data it refuses."""
    allowed = public_contact_columns(dataset)
    found = []
    for column in text_columns:
        if column in allowed or column not in frame.columns:
            continue
        # Each distinct text searched once (values repeat: names of places, of operators).
        codes, values = pd.factorize(frame[column].to_numpy(dtype=object))
        leaks = _leaking([str(value) for value in values])
        if not leaks:
            continue
        for line in frame["_ligne"].to_numpy()[np.isin(codes, leaks)]:
            found.append(Problem(int(line), column, "(masqué)", LEAK_RULE, PRIVACY_ADVICE))
    return found
