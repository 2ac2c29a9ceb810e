"""Personal-data headers, judged by their words as tools write them; the contract's own
columns (a venue's public phone and e-mail, under any alias) are never personal."""

from __future__ import annotations

import pytest

from pipeline.read.privacy import personal_headers


@pytest.mark.parametrize("header", [
    "Nom du participant", "Adresse e-mail", "N° de téléphone", "Prénom", "Date de naissance",
    "Mail du bénéficiaire", "Téléphone portable", "Usager", "Numéro de sécurité sociale",
    "Adresse du bénéficiaire", "NOM", "Tél."])
def test_personal_headers_of_a_workshop_file_are_found(header):
    assert personal_headers(["identifiant_seance", header], "ateliers") == [header]


@pytest.mark.parametrize("dataset, header", [
    ("ateliers", "Nombre de participants"), ("ateliers", "participants"),
    ("ateliers", "Nom du lieu"), ("ateliers", "Téléphone de l'accueil"),
    ("ateliers", "Comment s'inscrire"), ("collecte", "Nombre de téléphones"),
    ("collecte", "Téléphones reçus"), ("lieux", "courriel"), ("lieux", "tel"),
    ("lieux", "Adresse e-mail"), ("lieux", "N° de téléphone"), ("lieux", "Courriel(s)"),
    ("lieux", "Nom")])
def test_counts_places_and_the_contracts_public_contacts_are_not_personal(dataset, header):
    assert personal_headers([header], dataset) == []


def test_a_person_in_a_venue_file_is_still_personal():
    assert personal_headers(["nom", "Mail du bénéficiaire", "Nom du responsable"], "lieux") == [
        "Mail du bénéficiaire", "Nom du responsable"]
