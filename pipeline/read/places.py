"""Placing venue rows in the territory's communes.

A venue is published on its commune's pages, so a row without an INSEE code the territory
knows cannot be published. Partners' directories often give only a postal code and a commune
name written their own way ("ST AUBIN", "Ulis (Les)", "Dun Le Palestel", an old name kept after
a merger): the INSEE code is found from the communes of territory.toml — their official name,
their former names and their postal codes — compared without case, accents, hyphens, articles
or the « St »/« Saint » abbreviation. A postal code alone never places a row (one code often
covers several communes), and a name that designates no commune, or several, is not guessed:
the row gets an error asking for the INSEE code, so it never reaches the warehouse.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from pipeline.config import Commune, Territory
from pipeline.contracts.model import Contract
from pipeline.problems import Problem

POSTAL_CODE_COLUMN = "code_postal"
INSEE_CODE = r"^(?:\d{5}|2[AB]\d{3})$"
_ARTICLES = ("le", "la", "les", "l")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalise_commune(name: object) -> str:
    """``"Ulis (Les)"``, ``"LES ULIS"``, ``"les-ulis"`` -> ``"ulis"``; ``"St-Aubin"`` ->
    ``"saint aubin"``; ``"ORSAY CEDEX"`` -> ``"orsay"``."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    trailing = re.match(r"^(.*?)\s*\(\s*(le|la|les|l')\s*\)\s*$", text)
    if trailing:  # the official lists' "Ulis (Les)" form
        text = f"{trailing.group(2)} {trailing.group(1)}"
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    while words and (words[-1] == "cedex" or (words[-1].isdigit() and "cedex" in words)):
        words = words[:-1]
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _postal(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip().removesuffix(".0")
    return text.zfill(5) if text.isdigit() and len(text) == 4 else text


@dataclass(frozen=True)
class Placement:
    insee: str | None
    reason: str = ""  # French, when the row could not be placed


class Gazetteer:
    """The territory's communes by normalised name (official and former)."""

    def __init__(self, communes: tuple[Commune, ...]):
        self.communes = communes
        self.by_name: dict[str, list[Commune]] = {}
        for commune in communes:
            for name in dict.fromkeys(normalise_commune(n)
                                      for n in (commune.name, *commune.former_names)):
                self.by_name.setdefault(name, []).append(commune)

    def place(self, name: object, postal_code: object) -> Placement:
        written = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name)
        if not written.strip():
            return Placement(None, "Le lieu n'a ni code INSEE ni nom de commune : il ne peut "
                                   "pas être placé dans une commune du territoire.")
        candidates = self.by_name.get(normalise_commune(written), [])
        if not candidates:
            return Placement(None, "Cette commune n'est pas reconnue parmi les communes du "
                                   "territoire et la ligne n'a pas de code INSEE : le lieu ne "
                                   "peut pas être placé.")
        code = _postal(postal_code)
        if code:
            # A commune whose postal codes are not listed cannot contradict the row's code.
            candidates = [c for c in candidates if not c.postal_codes or code in c.postal_codes]
            if not candidates:
                return Placement(None, f"Aucune commune du territoire de ce nom n'a le code "
                                       f"postal « {code} » : le lieu ne peut pas être placé.")
        if len(candidates) > 1:
            return Placement(None, "Plusieurs communes du territoire portent ce nom ("
                                   + ", ".join(f"{c.name} {c.insee}" for c in candidates)
                                   + ") : le lieu ne peut pas être placé.")
        return Placement(candidates[0].insee)


def place_rows(frame: pd.DataFrame, contract: Contract,
               territory: Territory) -> list[Problem]:
    """Fill the missing INSEE codes of ``frame`` (in place) from commune names and postal
    codes; an error for every row that cannot be placed."""
    name_column, code_column = contract.commune_name_column, contract.commune_column
    if not name_column or not code_column or frame.empty:
        return []
    codes = frame[code_column]
    misplaced = frame.index[codes.notna() & ~codes.astype(str).str.match(INSEE_CODE)]
    if misplaced.empty and codes.notna().all():
        # Every row has its INSEE code: no name index to build (one per venue file).
        return postal_code_mismatches(frame, code_column, territory)
    gazetteer = Gazetteer(territory.communes)
    example = (f"{territory.communes[0].insee} pour {territory.communes[0].name}"
               if territory.communes else "91477 pour Palaiseau")
    fix = (f"Indiquez le code INSEE de la commune du lieu dans la colonne « "
           f"{contract.column(code_column).label} » (par exemple {example}).")
    postal = (frame[POSTAL_CODE_COLUMN] if POSTAL_CODE_COLUMN in frame.columns
              else pd.Series(None, index=frame.index))
    problems = []
    for index in misplaced:
        # A commune name written in the code column, as spreadsheets often do.
        placed = gazetteer.place(codes.at[index], postal.at[index])
        if placed.insee:
            frame.at[index, code_column] = placed.insee
    for index in frame.index[frame[code_column].isna()]:
        placed = gazetteer.place(frame.at[index, name_column], postal.at[index])
        if placed.insee:
            frame.at[index, code_column] = placed.insee
            continue
        name = frame.at[index, name_column]
        problems.append(Problem(
            int(frame.at[index, "_ligne"]), name_column,
            "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name),
            placed.reason, fix))
    return problems + postal_code_mismatches(frame, code_column, territory)


POSTAL_MISMATCH_FIX = ("Vérifiez le code postal et le code INSEE de ce lieu. Si ce code postal "
                       "est bien celui de la commune, signalez-le à l'équipe de "
                       "l'agglomération, qui l'ajoutera à la liste des codes postaux de la "
                       "commune.")


def postal_code_mismatches(frame: pd.DataFrame, code_column: str,
                           territory: Territory) -> list[Problem]:
    """A warning for each row whose INSEE code names a commune of the territory with declared
    postal codes, and whose postal code is none of them: one of the two is wrong, and the page
    would show an address residents cannot trust (« 84700 Avignon »: 84700 is Sorgues')."""
    if POSTAL_CODE_COLUMN not in frame.columns:
        return []
    communes = {c.insee: c for c in territory.communes if c.postal_codes}
    problems = []
    pairs = zip(frame["_ligne"].tolist(), frame[code_column].tolist(),
                frame[POSTAL_CODE_COLUMN].tolist())
    for line, insee, postal in pairs:
        commune = communes.get(insee) if isinstance(insee, str) else None
        code = _postal(postal)
        if commune is None or not re.fullmatch(r"\d{5}", code) or code in commune.postal_codes:
            continue
        problems.append(Problem(
            int(line), POSTAL_CODE_COLUMN, code,
            f"Ce code postal n'est pas celui de la commune {commune.insee} ({commune.name}) : "
            f"ses codes postaux sont {', '.join(commune.postal_codes)}. Le lieu est placé "
            "dans la commune de son code INSEE.", POSTAL_MISMATCH_FIX, "avertissement"))
    return problems
