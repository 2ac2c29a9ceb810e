"""French reports written back to partners, one per file, beside the file they dropped."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from pipeline.files import report_name
from pipeline.load.ledger import (STATUS_ACCEPTED, STATUS_ACCEPTED_WITH_WARNINGS, STATUS_LABELS,
                                  STATUS_REJECTED)
from pipeline.problems import MAX_DETAILS_PER_RULE, Problem

VERDICTS = {
    STATUS_ACCEPTED: "Toutes les lignes ont été enregistrées.",
    STATUS_ACCEPTED_WITH_WARNINGS: (
        "Toutes les lignes ont été enregistrées. Quelques points méritent votre attention "
        "(voir ci-dessous) ; corrigez-les dans votre prochain envoi."),
    STATUS_REJECTED: (
        "Aucune ligne de ce fichier n'a été enregistrée. Les données que vous avez envoyées "
        "auparavant restent en place. Corrigez les points ci-dessous puis déposez à nouveau "
        "le fichier entier dans votre dossier."),
}


def _location(problem: Problem, headers: dict[str, str] | None = None) -> str:
    """``headers``: contract column -> the partner's own header for it, named instead."""
    parts = []
    if problem.line is not None:
        parts.append(f"ligne {problem.line}")
    if problem.column:
        parts.append(f"colonne « {(headers or {}).get(problem.column, problem.column)} »")
    if problem.line is not None and problem.column:
        parts.append(f"valeur « {problem.value} »" if problem.value else "case vide")
    text = ", ".join(parts)
    return text[:1].upper() + text[1:] if text else "Fichier entier"


def problem_section(title: str, problems: list[Problem],
                    headers: dict[str, str] | None = None) -> list[str]:
    if not problems:
        return []
    lines = ["", title, "-" * len(title)]
    # One section per rule, whatever the column: each line below names its column, and a
    # rule met in several columns (lost letters, a phone rewritten) is said once.
    by_rule: OrderedDict[tuple[str, str], list[Problem]] = OrderedDict()
    for problem in problems:
        by_rule.setdefault((problem.rule, problem.fix), []).append(problem)
    for (rule, fix), items in by_rule.items():
        lines += ["", f"• {rule}", f"  Comment corriger : {fix}"]
        for problem in items[:MAX_DETAILS_PER_RULE]:
            lines.append(f"  - {_location(problem, headers)}")
        total = _count(items)
        if total > MAX_DETAILS_PER_RULE:
            lines.append(f"  … et {total - MAX_DETAILS_PER_RULE} autres lignes avec ce problème.")
    return lines


def _count(problems: list[Problem]) -> int:
    """Problems counted by lines: a large file keeps a rule's lines beyond those listed as one
    problem standing for all of them (``Problem.count``)."""
    return sum(p.count for p in problems)


def render_report(*, territory_name: str, partner_name: str, original_name: str,
                  dataset_title: str, received_at: datetime, sha256: str, status: str,
                  rows_total: int, problems: list[Problem], unknown_columns: list[str],
                  duplicate_of: str | None = None,
                  headers: dict[str, str] | None = None) -> str:
    """``headers``: contract column -> the header the partner's file gives it, where they
    differ; problems name the partner's column, the one they will look for."""
    errors = [p for p in problems if p.severity == "erreur"]
    warnings = [p for p in problems if p.severity != "erreur"]
    lines = [
        f"Rapport de dépôt — {territory_name}",
        "",
        f"Fichier : {original_name}",
        f"Partenaire : {partner_name}",
        f"Données : {dataset_title}",
        f"Reçu le : {received_at:%d/%m/%Y à %H:%M}",
        f"Empreinte du fichier (SHA-256) : {sha256}",
        "",
        f"Résultat : fichier {STATUS_LABELS[status].upper()}",
        VERDICTS[status],
        f"Lignes lues : {rows_total} — erreurs : {_count(errors)} — avertissements : "
        f"{_count(warnings)}",
    ]
    if duplicate_of:
        lines += ["", f"Ce fichier est identique à un fichier déjà reçu le {duplicate_of} : "
                      "il n'a rien changé."]
    lines += problem_section("Erreurs à corriger (le fichier est refusé tant qu'elles restent)",
                             errors, headers)
    # A refused file was not accepted: its warnings are only listed, under a neutral title.
    lines += problem_section("Avertissements" if status == STATUS_REJECTED
                      else "Avertissements (le fichier est accepté)", warnings, headers)
    if unknown_columns:
        lines += ["", "Colonnes non reconnues, ignorées : "
                  + ", ".join(f"« {c} »" for c in unknown_columns),
                  "Si elles contiennent des informations utiles, renommez-les comme dans le "
                  "modèle de fichier ; sinon vous pouvez les laisser."]
    lines += ["", "Le guide des partenaires et les modèles de fichiers sont sur le site, "
                  "rubrique « Partenaires ». Une question ? Écrivez à l'équipe de l'agglomération."]
    return "\n".join(lines) + "\n"


def report_path(inbox_folder: Path, original_name: str) -> Path:
    """``<name>.rapport.txt`` beside the file; the middle of a name too long for the file
    system is shortened (``pipeline.files.fit_name``)."""
    return inbox_folder / report_name(original_name)
