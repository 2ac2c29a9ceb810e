"""pipeline/reports.py: the French report a partner reads beside the file they dropped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipeline.problems import MAX_DETAILS_PER_RULE, Problem
from pipeline.files import write_atomically
from pipeline.load.ledger import STATUS_ACCEPTED, STATUS_ACCEPTED_WITH_WARNINGS, STATUS_REJECTED
from pipeline.report.reports import render_report, report_path

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
DATE_RULE = "La date doit être écrite JJ/MM/AAAA."
DATE_FIX = "Écrivez par exemple 01/12/2026."


def report(status: str, problems: list[Problem], rows_total: int = 120, **extra) -> str:
    return render_report(territory_name="Agglomération d'essai", partner_name="Ville de Palaiseau",
                         original_name="ateliers_novembre.csv", dataset_title="Ateliers numériques",
                         received_at=datetime(2026, 11, 25, 6, 5), sha256=SHA, status=status,
                         rows_total=rows_total, problems=problems,
                         unknown_columns=extra.pop("unknown_columns", []), **extra)


def error(line, value="32/11/2026", column="date", rule=DATE_RULE, fix=DATE_FIX, count=1):
    return Problem(line, column, value, rule, fix, "erreur", count)


def warning(line, value="", column="places"):
    return Problem(line, column, value, "Le nombre de places est vide.",
                   "Indiquez le nombre de places.", "avertissement")


def test_an_accepted_file_says_every_row_was_recorded_and_names_the_file():
    text = report(STATUS_ACCEPTED, [])
    lines = text.splitlines()
    assert lines[0] == "Rapport de dépôt — Agglomération d'essai"
    assert "Fichier : ateliers_novembre.csv" in lines
    assert "Partenaire : Ville de Palaiseau" in lines
    assert "Données : Ateliers numériques" in lines
    assert "Reçu le : 25/11/2026 à 06:05" in lines
    assert f"Empreinte du fichier (SHA-256) : {SHA}" in lines
    assert "Résultat : fichier ACCEPTÉ" in lines
    assert "Toutes les lignes ont été enregistrées." in lines
    assert "Lignes lues : 120 — erreurs : 0 — avertissements : 0" in lines
    assert "Erreurs" not in text and "Avertissements" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_warnings_are_listed_under_an_accepted_title_with_their_location():
    text = report(STATUS_ACCEPTED_WITH_WARNINGS, [warning(4), warning(9, "0")])
    assert "Résultat : fichier ACCEPTÉ AVEC AVERTISSEMENTS" in text
    assert "corrigez-les dans votre prochain envoi" in text
    assert "Lignes lues : 120 — erreurs : 0 — avertissements : 2" in text
    assert "Avertissements (le fichier est accepté)" in text
    assert "  - Ligne 4, colonne « places », case vide" in text.splitlines()
    assert "  - Ligne 9, colonne « places », valeur « 0 »" in text.splitlines()


def test_a_rejected_file_says_nothing_was_recorded_and_lists_errors_then_warnings():
    text = report(STATUS_REJECTED, [warning(3), error(7), error(12, "2026-13-01")])
    lines = text.splitlines()
    assert "Résultat : fichier REFUSÉ" in lines
    assert any(line.startswith("Aucune ligne de ce fichier n'a été enregistrée.") for line in lines)
    assert "Lignes lues : 120 — erreurs : 2 — avertissements : 1" in lines
    errors_at = lines.index("Erreurs à corriger (le fichier est refusé tant qu'elles restent)")
    warnings_at = lines.index("Avertissements")  # neutral title: the file was not accepted
    assert errors_at < warnings_at
    assert "Avertissements (le fichier est accepté)" not in text
    assert lines[errors_at + 1] == "-" * len(lines[errors_at])  # underlined title
    rule_at = lines.index(f"• {DATE_RULE}")
    assert errors_at < rule_at < warnings_at
    assert lines[rule_at + 1] == f"  Comment corriger : {DATE_FIX}"
    assert lines[rule_at + 2:rule_at + 4] == [
        "  - Ligne 7, colonne « date », valeur « 32/11/2026 »",
        "  - Ligne 12, colonne « date », valeur « 2026-13-01 »"]


def test_problems_are_grouped_by_rule_in_order_of_first_appearance():
    other = "La commune doit être un code INSEE du territoire."
    problems = [error(2), error(3, "75056", "commune", other, "Utilisez le code INSEE."), error(4)]
    lines = report(STATUS_REJECTED, problems).splitlines()
    assert lines.count(f"• {DATE_RULE}") == 1 and lines.count(f"• {other}") == 1
    assert lines.index(f"• {DATE_RULE}") < lines.index(f"• {other}")
    date_at = lines.index(f"• {DATE_RULE}")
    assert lines[date_at + 2:date_at + 4] == [
        "  - Ligne 2, colonne « date », valeur « 32/11/2026 »",
        "  - Ligne 4, colonne « date », valeur « 32/11/2026 »"]


def test_a_rule_met_in_several_columns_is_said_once_each_line_naming_its_column():
    """Lost letters in the name, the address and the town of a real regional export: one
    section, not three copies of the same advice."""
    lost = "Des lettres de cette case ont été perdues avant l'envoi (remplacées par « \ufffd »)."
    again = "Exportez à nouveau le fichier en UTF-8."
    problems = [warning(2, "M\ufffddiath\ufffdque", "nom"), warning(2, "Ch\ufffdteau", "adresse"),
                warning(3, "Ari\ufffdge", "commune")]
    problems = [Problem(p.line, p.column, p.value, lost, again, p.severity) for p in problems]
    lines = report(STATUS_ACCEPTED_WITH_WARNINGS, problems).splitlines()
    assert lines.count(f"• {lost}") == 1 and lines.count(f"  Comment corriger : {again}") == 1
    at = lines.index(f"• {lost}")
    assert lines[at + 2:at + 5] == [
        "  - Ligne 2, colonne « nom », valeur « M\ufffddiath\ufffdque »",
        "  - Ligne 2, colonne « adresse », valeur « Ch\ufffdteau »",
        "  - Ligne 3, colonne « commune », valeur « Ari\ufffdge »"]


def test_a_rule_lists_at_most_its_cap_of_lines_then_counts_the_rest():
    problems = [error(line) for line in range(2, 2 + MAX_DETAILS_PER_RULE + 7)]
    lines = report(STATUS_REJECTED, problems, rows_total=500).splitlines()
    listed = [line for line in lines if line.startswith("  - Ligne ")]
    assert len(listed) == MAX_DETAILS_PER_RULE
    last = 1 + MAX_DETAILS_PER_RULE
    assert listed[-1] == f"  - Ligne {last}, colonne « date », valeur « 32/11/2026 »"
    assert "  … et 7 autres lignes avec ce problème." in lines
    assert f"Lignes lues : 500 — erreurs : {MAX_DETAILS_PER_RULE + 7} — avertissements : 0" in lines


def test_a_problem_standing_for_many_lines_counts_them_all():
    # a large file keeps the lines beyond those listed as one problem with a count
    problems = [error(line) for line in range(2, 2 + MAX_DETAILS_PER_RULE)]
    problems.append(error(None, "", count=1000))
    lines = report(STATUS_REJECTED, problems, rows_total=90000).splitlines()
    errors = MAX_DETAILS_PER_RULE + 1000
    assert f"Lignes lues : 90000 — erreurs : {errors} — avertissements : 0" in lines
    assert "  … et 1000 autres lignes avec ce problème." in lines


def test_whole_file_and_column_problems_are_located_as_such():
    problems = [Problem(None, "", "", "Le fichier est vide.", "Déposez un fichier avec des lignes.",
                        "erreur"),
                Problem(None, "date", "", "La colonne « date » manque.", "Ajoutez-la.", "erreur")]
    lines = report(STATUS_REJECTED, problems).splitlines()
    assert "  - Fichier entier" in lines
    assert "  - Colonne « date »" in lines


def test_a_duplicate_and_unknown_columns_are_told():
    text = report(STATUS_ACCEPTED, [], duplicate_of="20/11/2026",
                  unknown_columns=["remarque", "Numéro interne"])
    assert ("Ce fichier est identique à un fichier déjà reçu le 20/11/2026 : "
            "il n'a rien changé.") in text
    assert "Colonnes non reconnues, ignorées : « remarque », « Numéro interne »" in text


def test_report_path_is_beside_the_file_and_written_atomically(tmp_path: Path):
    path = report_path(tmp_path, "ateliers.csv")
    assert path == tmp_path / "ateliers.csv.rapport.txt"
    write_atomically(path, "premier\n")
    write_atomically(path, "second\n")
    assert path.read_text(encoding="utf-8") == "second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ateliers.csv.rapport.txt"]
