"""Partner mappings, territory.toml checks, placing rows in communes, JSON files and the dry
run, through the public entry points: a dropped file and ``process_files``, ``load_territory``,
the steward command line."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest
from test_ingest_corpus import ingest

from pipeline.config import ConfigError, load_territory
from pipeline.load import ledger, warehouse
from pipeline.read.places import normalise_commune

NO_POSITION = "colonne « latitude », case vide"


def accepted_but_not_placed(outcome, report: str) -> None:
    """Every row recorded; the only warnings say which venues have no coordinates (they are
    listed but cannot be sorted by distance)."""
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    details = [line for line in report.splitlines() if line.strip().startswith("- Ligne")]
    assert details and all(NO_POSITION in line for line in details), report

REPO = Path(__file__).resolve().parent.parent

TERRITORY = textwrap.dedent('''\
    [territory]
    name = "Essai des correspondances"

    [[communes]]
    insee = "91477"
    name = "Palaiseau"
    postal_codes = ["91120"]

    [[communes]]
    insee = "91538"
    name = "Saint-Aubin"
    postal_codes = ["91190"]

    [[communes]]
    insee = "91228"
    name = "Évry-Courcouronnes"
    postal_codes = ["91000", "91080"]
    former_names = ["Évry", "Courcouronnes"]

    [[communes]]
    insee = "91692"
    name = "Les Ulis"
    postal_codes = ["91940"]

    [[communes]]
    insee = "01053"
    name = "Bourg-en-Bresse"
    postal_codes = ["01000"]

    [[partners]]
    id = "agglo-lieux"
    name = "Annuaire des lieux"
    communes = ["*"]
    datasets = ["lieux"]

    [[partners]]
    id = "ville-essai"
    name = "Ville d'essai"
    communes = ["*"]
    datasets = ["lieux"]

    [partners.mapping]
    file_date = ["date_maj"]
    ignore_columns = ["Remarque"]

    [partners.mapping.columns]
    "N°" = "id"
    "Nom" = ["nom", "structure_parente"]
    "Ville" = "commune"
    "CP" = "code_postal"
    "INSEE" = "code_insee"
    "Site" = "site_web"
    "Type" = "typologie"
    "Labels" = "dispositif_programmes_nationaux"

    [partners.mapping.join]
    adresse = ["Numéro", "Voie"]
    services = ["Service 1", "Service 2"]

    [partners.mapping.defaults]
    pivot = "00000000000000"

    [partners.mapping.constants]
    source = "Ville d'essai"

    [partners.mapping.transforms.site_web]
    add_scheme = "https://"

    [partners.mapping.transforms.code_insee]
    zero_pad = 5

    [partners.mapping.transforms.code_postal]
    zero_pad = 5

    [partners.mapping.transforms.typologie]
    split = "-"

    [partners.mapping.values.services]
    "Démarches" = "Aide aux démarches administratives"
    "Smartphone" = "Maîtrise des outils numériques du quotidien"

    [partners.mapping.values.dispositif_programmes_nationaux]
    "France Services" = "France Services"
    "Pass numérique" = ""

    [[partners.mapping.terms.autres_formations_labels]]
    columns = ["Labels"]
    terms = ["Pass numérique"]
    target = "Pass numérique"

    [partners.mapping.hours_by_day]
    "Lundi matin" = "Mo"
    "Lundi après-midi" = "Mo"
    "Mardi matin" = "Tu"
    "Mardi après-midi" = "Tu"

    [[partners]]
    id = "ville-alias"
    name = "Ville aux en-têtes du modèle"
    communes = ["*"]
    datasets = ["lieux"]

    [partners.mapping]
    file_date = ["date_maj"]

    [partners.mapping.join]
    id = ["Nom", "CP"]

    [partners.mapping.defaults]
    pivot = "00000000000000"

    [partners.mapping.values.courriels]
    "accueil @palaiseau.fr" = ""
    ''')

HEADER = ("N°;Nom;Numéro;Voie;Ville;CP;INSEE;Site;Type;Labels;Service 1;Service 2;"
          "Lundi matin;Lundi après-midi;Mardi matin;Mardi après-midi;Remarque")


@pytest.fixture
def territory(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "territory.toml"
    path.write_text(TERRITORY, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(path))
    return data_dir


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


ROW = ("V1;Médiathèque;3;rue de Paris;Palaiseau;91120;;www.palaiseau.fr;BIB-MUNI;"
       "France Services, Pass numérique;Démarches;Smartphone;9h-12h;14h-17h;9h-12h;;à revoir")


def test_a_rich_mapping_lays_out_the_partners_own_export(territory: Path):
    path = territory / "inbox" / "ville-essai" / "lieux.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(_csv(ROW))
    dropped = datetime(2026, 3, 9, 10, 0).timestamp()
    os.utime(path, (dropped, dropped))
    from pipeline.ingest.flow import process_files

    outcome = process_files([("ville-essai", str(path))])[0]
    report = path.with_name("lieux.csv.rapport.txt").read_text(encoding="utf-8")
    accepted_but_not_placed(outcome, report)
    venue = warehouse.current_rows("lieux").set_index("id").loc["V1"]
    # Morning and afternoon of one day are one OSM rule: two rules would keep only the last.
    assert venue["horaires"] == "Mo 09:00-12:00,14:00-17:00; Tu 09:00-12:00"
    assert venue["adresse"] == "3 rue de Paris"
    assert venue["services"] == ("Aide aux démarches administratives|"
                                 "Maîtrise des outils numériques du quotidien")
    assert venue["dispositif_programmes_nationaux"] == "France Services"
    assert venue["autres_formations_labels"] == "Pass numérique"
    assert (venue["nom"], venue["structure_parente"]) == ("Médiathèque", "Médiathèque")
    assert venue["site_web"] == "https://www.palaiseau.fr"
    assert venue["typologie"] == "BIB|MUNI"
    assert (venue["pivot"], venue["source"]) == ("00000000000000", "Ville d'essai")
    assert venue["date_maj"] == "2026-03-09"  # the file's date, for an export without one
    assert venue["code_insee"] == "91477"  # placed from its postal code and name
    assert "Remarque" not in report and "Colonnes non reconnues" not in report


def test_what_the_mapping_does_not_cover_is_reported(territory: Path):
    row = ROW.replace("France Services, Pass numérique", "France Services, Label Jardin") \
        .replace(";9h-12h;14h-17h;", ";9h-12h;sur rendez-vous;")
    outcome, report = ingest(territory, "ville-essai", "lieux.csv",
                             _csv(row).replace(b";Remarque", b";Note"))
    # « Label Jardin » is in no national list: dropped from this descriptive list, reported.
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    assert "Ligne 2, colonne « Labels », valeur « Label Jardin »" in report
    assert "Ligne 2, colonne « Lundi après-midi », valeur « sur rendez-vous »" in report
    # A slip in a day's cell is the partner's to fix: told how to write it.
    assert "Écrivez les plages du jour comme « 09:00-12:00 / 14:00-17:00 »" in report
    assert "Colonnes non reconnues, ignorées : « Note »" in report


def test_zero_padded_codes_and_a_code_given_as_a_number(territory: Path):
    row = ("V2;Bureau de poste;45;avenue Maginot;Bourg-en-Bresse;1000;1053;;;;Démarches;;"
           ";;;;")
    outcome, report = ingest(territory, "ville-essai", "lieux.csv", _csv(row))
    accepted_but_not_placed(outcome, report)
    venue = warehouse.current_rows("lieux").set_index("id").loc["V2"]
    assert (venue["code_postal"], venue["code_insee"]) == ("01000", "01053")


def test_a_mapping_acts_on_columns_headed_as_the_standard_names_them(territory: Path):
    """« Mail » is read as courriels (an alias): its value table applies. « Nom » is joined
    into the identifier and still read as the venue's name. The report names « Tel », the
    partner's header, not the contract's « telephone »."""
    payload = ("Nom;Ville;CP;Adresse;Mail;Tel;services\n"
               "Médiathèque;Palaiseau;91120;1 place de la Mairie;accueil @palaiseau.fr;"
               "01 69 31 00 00;Aide aux démarches administratives\n").encode()
    outcome, report = ingest(territory, "ville-alias", "lieux.csv", payload)
    assert outcome.status != ledger.STATUS_REJECTED, report
    venue = warehouse.current_rows("lieux").iloc[0]
    assert (venue["id"], venue["nom"]) == ("Médiathèque 91120", "Médiathèque")
    assert venue["courriels"] is None
    assert "Ligne 2, colonne « Tel », valeur « 01 69 31 00 00 »" in report
    assert "colonne « telephone »" not in report


def test_one_line_text_loses_its_line_breaks_a_presentation_keeps_them(territory: Path):
    payload = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services,"
               "presentation_detail\n"
               'V1,00000000000000,"Médiathèque\nGeorge Sand",Palaiseau,91120,91477,'
               '"1 place de la Mairie \n\n\n\nBâtiment B",2026-01-15,'
               'Aide aux démarches administratives,"Ateliers le mardi.\n\nSur rendez-vous : '
               '06 12 34 56 78 ou mediatheque@palaiseau.fr"\n').encode()
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", payload)
    # The venue's own booking number and address in its presentation are public.
    assert outcome.status != ledger.STATUS_REJECTED, report
    venue = warehouse.current_rows("lieux").iloc[0]
    assert venue["adresse"] == "1 place de la Mairie Bâtiment B"
    assert venue["nom"] == "Médiathèque George Sand"
    assert venue["presentation_detail"].startswith("Ateliers le mardi.\n\nSur rendez-vous")


def test_a_person_s_mobile_in_a_venue_name_is_still_refused(territory: Path):
    payload = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
               "V1,00000000000000,Jean Dupont 06 12 34 56 78,Palaiseau,91120,91477,"
               "1 place de la Mairie,2026-01-15,Aide aux démarches administratives\n").encode()
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", payload)
    assert outcome.status == ledger.STATUS_REJECTED and "(masqué)" in report


def test_letters_lost_before_sending_are_named_cell_by_cell(territory: Path):
    payload = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
               "V1,00000000000000,Biblioth\ufffdque,Palaiseau,91120,91477,1 place de la Mairie,"
               "2026-01-15,Aide aux démarches administratives\n").encode()
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", payload)
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    assert "Ligne 2, colonne « nom », valeur « Biblioth\ufffdque »" in report
    assert "Des lettres de cette case ont été perdues" in report


def test_a_postal_code_that_is_not_its_insee_commune_s_is_said(territory: Path):
    payload = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
               "V1,00000000000000,Médiathèque,Palaiseau,91190,91477,1 place de la Mairie,"
               "2026-01-15,Aide aux démarches administratives\n"
               "V2,00000000000000,Mairie,Palaiseau,91120,91477,1 place de la Mairie,"
               "2026-01-15,Aide aux démarches administratives\n").encode()
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", payload)
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS and outcome.rows_loaded == 2
    assert "Ce code postal n'est pas celui de la commune 91477 (Palaiseau)" in report
    assert "Ligne 2, colonne « code_postal », valeur « 91190 »" in report
    assert "Ligne 3, colonne « code_postal »" not in report


# --- territory.toml checked at load ------------------------------------------------------------

def _broken(old: str, new: str) -> str:
    assert old in TERRITORY
    return TERRITORY.replace(old, new, 1)


@pytest.mark.parametrize("text, words", [
    (_broken('"Nom" = ["nom", "structure_parente"]', '"Nom" = "nom"\n"Enseigne" = "nom"'),
     ["partner 'ville-essai'", 'mapping.columns."Enseigne"', "already filled by",
      "[join] or [terms]"]),
    (_broken('"Site" = "site_web"', '"Site" = "site_internet"'),
     ["partner 'ville-essai'", 'mapping.columns."Site"', "'site_internet'"]),
    (_broken('"Lundi matin" = "Mo"', '"Lundi matin" = "Lu"'),
     ["partner 'ville-essai'", 'mapping.hours_by_day."Lundi matin"', "'Lu'"]),
    (_broken('file_date = ["date_maj"]', 'file_dates = ["date_maj"]'),
     ["partner 'ville-essai'", "mapping.file_dates", "unknown option"]),
    (_broken("zero_pad = 5", "pad = 5"),
     ["partner 'ville-essai'", "mapping.transforms.code_insee.pad", "unknown option"]),
    (_broken('datasets = ["lieux"]', 'datasets = ["lieu"]'),
     ["partner 'agglo-lieux'", "key datasets", "unknown dataset 'lieu'"]),
    (_broken('id = "ville-essai"', 'id = "agglo-lieux"'),
     ["[[partners]], key id", "'agglo-lieux' appears twice"]),
    (_broken('name = "Ville d\'essai"', 'name = "Ville d\'essai"\ninbox = "agglo-lieux"'),
     ["[[partners]], key inbox", "'agglo-lieux' appears twice"]),
    (_broken('communes = ["*"]', 'communes = ["91999"]'),
     ["partner 'agglo-lieux'", "key communes", "91999"]),
    (_broken('postal_codes = ["91120"]', 'postal_codes = ["9112"]'),
     ["commune '91477'", "key postal_codes", "'9112'"]),
    (_broken('insee = "91538"', 'insee = "91477"'), ["[[communes]], key insee", "'91477'"]),
    (_broken('name = "Essai des correspondances"', 'nom = "Essai"'),
     ["[territory]", "unknown key 'nom'"]),
    (TERRITORY + '\n[partenaires]\nid = "x"\n', ["top level", "unknown table 'partenaires'"]),
    (_broken('communes = ["*"]\ndatasets = ["lieux"]\n\n[partners.mapping]',
             'communes = ["*"]\ndatasets = ["lieux"]\nmappings = 1\n\n[partners.mapping]'),
     ["partner 'ville-essai'", "unknown key 'mappings'"]),
])
def test_a_broken_territory_file_is_refused_naming_file_partner_and_key(tmp_path, text, words):
    path = tmp_path / "territoire.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_territory(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("path", [REPO / "territory.toml", REPO / "tests" / "corpus" /
                                  "territory.toml",
                                  REPO / "tests" / "corpus" / "territory_real_directories.toml"])
def test_the_shipped_territory_files_pass_the_checks(path):
    territory = load_territory(path)
    assert territory.communes and territory.partners


def test_the_real_territory_gives_each_commune_its_postal_codes():
    communes = {c.name: c for c in load_territory(REPO / "territory.toml").communes}
    assert communes["Palaiseau"].postal_codes == ("91120",)
    assert communes["Massy"].postal_codes == ("91300",)
    assert communes["Orsay"].postal_codes == ("91400",)
    assert all(c.postal_codes for c in communes.values())


# --- placing rows in communes -------------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("LES ULIS", "ulis"), ("Ulis (Les)", "ulis"), ("les-ulis", "ulis"),
    ("St-Aubin", "saint aubin"), ("SAINT AUBIN", "saint aubin"),
    ("Évry-Courcouronnes", "evry courcouronnes"), ("ORSAY CEDEX", "orsay"),
    ("Dun Le Palestel", "dun le palestel"),
])
def test_commune_names_are_compared_plainly(written, expected):
    assert normalise_commune(written) == expected


VENUE_HEADER = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj"


def _venues(*rows: str) -> bytes:
    return ("\n".join([VENUE_HEADER, *rows]) + "\n").encode("utf-8")


def test_rows_are_placed_from_postal_code_and_name_however_written(territory: Path):
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", _venues(
        "A,21910538600016,Mairie,ST AUBIN,91190,,Place de la Mairie,2026-01-15",
        "B,21910538600016,Médiathèque,Courcouronnes,91080,,Rue du Marquis,2026-01-15",
        "C,21910538600016,Mairie,Ulis (Les),91940,,Esplanade,2026-01-15",
        "D,21910538600016,Bibliothèque,palaiseau,91120,,Rue de Paris,2026-01-15",
        "E,21910538600016,Mairie,Évry,91000,Evry-Courcouronnes,Place,2026-01-15"))
    accepted_but_not_placed(outcome, report)
    codes = warehouse.current_rows("lieux").set_index("id")["code_insee"].to_dict()
    assert codes == {"A": "91538", "B": "91228", "C": "91692", "D": "91477", "E": "91228"}


def test_every_row_that_cannot_be_placed_gets_its_message(territory: Path):
    outcome, report = ingest(territory, "agglo-lieux", "lieux.csv", _venues(
        "A,21910538600016,Mairie,Palaiseau,91120,,Place de la Mairie,2026-01-15",
        "B,21910538600016,Mairie,Saint-Aubin,91300,,Place de la Mairie,2026-01-15",
        "C,21910538600016,Médiathèque,Marcoussis,91460,,Rue,2026-01-15",
        "D,21910538600016,Point numérique,,91120,,Rue,2026-01-15"))
    assert outcome.status == ledger.STATUS_REJECTED
    assert "Ligne 3, colonne « commune », valeur « Saint-Aubin »" in report
    assert "n'a le code postal « 91300 »" in report
    assert "Ligne 4, colonne « commune », valeur « Marcoussis »" in report
    assert "Ligne 5, colonne « commune », case vide" in report
    assert "Indiquez le code INSEE de la commune du lieu dans la colonne « Code INSEE »" in report
    assert warehouse.current_rows("lieux").empty


# --- JSON and GeoJSON ---------------------------------------------------------------------------

def _venue(number: int, **extra) -> dict:
    return {"id": f"J{number}", "pivot": "21910477700019", "nom": "Médiathèque",
            "commune": "Palaiseau", "code_postal": "91120", "adresse": "Rue de Paris",
            "date_maj": "2026-01-15", **extra}


def test_a_json_array_and_a_geojson_collection_are_read_like_a_table(territory: Path):
    outcome, report = ingest(territory, "agglo-lieux", "lieux.json", json.dumps(
        [_venue(1, services=["Aide aux démarches administratives",
                             "Maîtrise des outils numériques du quotidien"]),
         _venue(2, code_postal=91120, latitude=48.71)]).encode())
    accepted_but_not_placed(outcome, report)
    venues = warehouse.current_rows("lieux").set_index("id")
    assert venues.loc["J1", "services"] == ("Aide aux démarches administratives|"
                                            "Maîtrise des outils numériques du quotidien")
    assert venues.loc["J2", "code_postal"] == "91120"
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": _venue(3),
         "geometry": {"type": "Point", "coordinates": [2.2457, 48.7145]}}]}
    outcome, report = ingest(territory, "agglo-lieux", "points.geojson",
                             json.dumps(collection).encode())
    assert outcome.status == ledger.STATUS_ACCEPTED, report
    point = warehouse.current_rows("lieux").set_index("id").loc["J3"]
    assert (point["longitude"], point["latitude"]) == (2.2457, 48.7145)


@pytest.mark.parametrize("payload, words", [
    (b'{"lieux": []}', "n'est pas un tableau d'objets : il contient un objet"),
    (b'[1, 2]', "L'élément n° 1 du tableau est un nombre, pas un objet"),
    (b'[{"id": "J1"', "mal formé ou tronqué"),
    (b'[]', "aucun lieu"),
    (json.dumps([_venue(1, adresse={"voie": "rue"})]).encode(),
     "L'objet n° 1, clé « adresse », contient une valeur imbriquée"),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": _venue(1),
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 1]]]}}]}).encode(),
     "L'élément n° 1 de la FeatureCollection n'est pas un point"),
])
def test_json_that_is_not_a_table_is_refused_in_french(territory: Path, payload, words):
    outcome, report = ingest(territory, "agglo-lieux", "lieux.json", payload)
    assert outcome.status == ledger.STATUS_REJECTED
    assert words in report, report


def test_an_oversize_json_file_is_refused_before_parsing(territory: Path, monkeypatch):
    monkeypatch.setenv("INCLUSION_MAX_JSON_MB", "0.0001")
    _, report = ingest(territory, "agglo-lieux", "lieux.json",
                       json.dumps([_venue(n) for n in range(10)]).encode())
    assert "Le fichier est trop gros" in report and "JSON" in report


# --- dry run ------------------------------------------------------------------------------------

def test_the_dry_run_prints_the_report_and_touches_nothing(territory: Path, tmp_path, capsys):
    from pipeline.cli import main

    candidate = tmp_path / "essai.csv"
    candidate.write_bytes(_csv(ROW.replace(";Démarches;", ";Jardinage;")))
    assert main(["essayer", "ville-essai", str(candidate)]) == 0
    printed = capsys.readouterr().out
    assert "Essai à blanc : rien n'a été enregistré ni déplacé." in printed
    assert "Fichier : essai.csv" in printed and "fichier REFUSÉ" in printed
    assert "Ligne 2, colonne « services », valeur « Jardinage »" in printed
    assert candidate.exists() and not candidate.with_name("essai.csv.rapport.txt").exists()
    assert not (territory / "warehouse").exists()  # no ledger, no warehouse created
    assert not (territory / "archive").exists() and not (territory / "quarantine").exists()

    good = tmp_path / "bon.csv"
    good.write_bytes(_csv(ROW))
    assert main(["essayer", "ville-essai", str(good)]) == 0
    assert "fichier ACCEPTÉ" in capsys.readouterr().out
    assert not (territory / "warehouse").exists()


def test_the_dry_run_reads_an_existing_warehouse_without_changing_it(territory: Path, tmp_path,
                                                                      capsys):
    from pipeline.cli import main

    ingest(territory, "ville-essai", "lieux.csv", _csv(ROW))
    before = (ledger.entries(), warehouse.all_rows("lieux").to_dict())
    candidate = tmp_path / "lieux.csv"
    candidate.write_bytes(_csv(ROW.replace("V1;", "V9;")))
    assert main(["essayer", "ville-essai", str(candidate)]) == 0
    assert "fichier ACCEPTÉ" in capsys.readouterr().out
    assert (ledger.entries(), warehouse.all_rows("lieux").to_dict()) == before


def test_the_dry_run_names_an_unknown_partner_or_file(territory: Path, tmp_path, capsys):
    from pipeline.cli import main

    candidate = tmp_path / "lieux.csv"
    candidate.write_bytes(_csv(ROW))
    assert main(["essayer", "inconnu", str(candidate)]) == 1
    assert "partenaire inconnu 'inconnu'" in capsys.readouterr().err
    assert main(["essayer", "ville-essai", str(tmp_path / "absent.csv")]) == 1
    assert "n'est pas un fichier" in capsys.readouterr().err


def test_the_file_date_is_the_territory_day_the_file_was_dropped(territory: Path):
    path = territory / "inbox" / "ville-essai" / "lieux.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(_csv(ROW))
    # 23:30 UTC on 31 March is already 1 April in Paris.
    moment = datetime.fromisoformat("2026-03-31T23:30:00+00:00").timestamp()
    os.utime(path, (moment, moment))
    from pipeline.ingest.flow import process_files

    process_files([("ville-essai", str(path))])[0]
    assert warehouse.current_rows("lieux").loc[0, "date_maj"] == date(2026, 4, 1).isoformat()


# --- the week in French words -------------------------------------------------------------------

@pytest.mark.parametrize("written, osm", [
    ("Du lundi au vendredi, de 9h30 à 17h", "Mo-Fr 09:30-17:00"),
    ("9h-12h et 14h-17h du lundi au vendredi", "Mo-Fr 09:00-12:00,14:00-17:00"),
    ("Lundi et Jeudi : 9h à 12h30 et 13h30 à 17h Mardi 9h à 12h30",
     "Mo 09:00-12:30,13:30-17:00; Tu 09:00-12:30; Th 09:00-12:30,13:30-17:00"),
    ("Le lundi de 13h30 à 18h30 Du mardi au vendredi de 9h00 à 12h00",
     "Mo 13:30-18:30; Tu-Fr 09:00-12:00"),
    ("Lundi, Mercredi et Jeudi de 9 à 12h", "Mo 09:00-12:00; We-Th 09:00-12:00"),
    ("Du lundi au vendredi, de 8h30 à 17h, sur rendez-vous uniquement", None),
    ("Lundi au vendredi : 9h à 18h (lundi et jeudi matin fermé)", None),
    ("Lundi au Samedi : 8h30 à 22h30 de septembre à juin", None),
    ("Lundi : 9h à 12h Lundi : 14h à 17h", None),  # the same day twice: not guessed
    ("Mardi : 18h à 9h", None),
    ("Ligne Irigo N° 6, 11 - arrêt les Deniers", None),
    ("", None),
])
def test_a_week_in_french_words_is_read_only_when_every_word_is_understood(written, osm):
    from pipeline.read.french_hours import read_week
    from pipeline.contracts.hours import is_valid

    assert read_week(written) == osm
    assert osm is None or is_valid(osm)


def test_a_week_column_feeds_the_hours_and_keeps_what_it_cannot_read(territory: Path,
                                                                      tmp_path, monkeypatch):
    text = TERRITORY.replace('[partners.mapping.hours_by_day]\n"Lundi matin" = "Mo"\n'
                             '"Lundi après-midi" = "Mo"\n"Mardi matin" = "Tu"\n'
                             '"Mardi après-midi" = "Tu"\n', "").replace(
        'ignore_columns = ["Remarque"]', 'ignore_columns = ["Remarque"]\nhours_text = "Horaires"')
    path = tmp_path / "semaine.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(path))
    header = "N°;Nom;Numéro;Voie;Ville;CP;Site;Service 1;Horaires"
    payload = "\n".join([
        header, "W1;Mairie;1;place;Palaiseau;91120;;Démarches;Du lundi au vendredi, de 9h à 12h",
        "W2;CCAS;2;rue;Palaiseau;91120;;Démarches;Le mardi, sur rendez-vous"]) + "\n"
    outcome, report = ingest(territory, "ville-essai", "lieux.csv", payload.encode())
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    hours = warehouse.current_rows("lieux").set_index("id")["horaires"]
    assert hours.to_dict() == {"W1": "Mo-Fr 09:00-12:00", "W2": "Le mardi, sur rendez-vous"}
    assert "Ligne 3, colonne « horaires », valeur « Le mardi, sur rendez-vous »" in report


def test_every_option_is_documented_in_the_territory_file_header():
    from pipeline.config import COMMUNE_KEYS, PARTNER_KEYS
    from pipeline.contracts.partner_mapping import MAPPING_KEYS, TERM_KEYS, TRANSFORM_KEYS

    header = "\n".join(line for line in (REPO / "territory.toml").read_text(
        encoding="utf-8").splitlines() if line.startswith("#"))
    for key in (MAPPING_KEYS | TRANSFORM_KEYS | TERM_KEYS | set(COMMUNE_KEYS)
                | set(PARTNER_KEYS)):
        assert key in header, f"{key} is not documented in territory.toml"
