"""Dataset contracts: the one declarative description of what partners send.

Each contract lists the French columns partners use, their types, allowed values and bounds,
the column that identifies a row, and the rules that span columns. From it come:
- the Great Expectations suite stored in ``expectations/<dataset>.json`` (``pipeline.check.suites``),
- the reading and typing of partner files (``pipeline.read.reading``),
- the warehouse table (``pipeline.load.warehouse``),
- the partners' guide on the site.
Change a rule here, run ``make expectations``, and every consumer follows.
"""

from __future__ import annotations

from pipeline.contracts.model import (Breakdown, Choice, Column, Contract, CrossCheck, PairRule,
                                      RequiredTogether)
from pipeline.contracts.venues import VENUES

WORKSHOP_TOPICS = (
    Choice("smartphone", "Prise en main du smartphone"),
    Choice("usages-essentiels", "Usages essentiels du numérique"),
    Choice("donnees-personnelles", "Protection des données personnelles"),
    Choice("services-en-ligne", "Accès aux services en ligne"),
)

WORKSHOP_PUBLICS = (
    Choice("seniors", "Seniors"),
    Choice("demandeurs-emploi", "Personnes éloignées de l'emploi"),
    Choice("jeunes", "Jeunes"),
    Choice("tout-public", "Tout public"),
)

# The status codes the pipeline acts on: a held session counts in the indicators and must give
# its attendance; a cancelled one leaves the agenda.
WORKSHOP_HELD, WORKSHOP_CANCELLED = "realisee", "annulee"
WORKSHOP_STATUSES = (
    Choice("prevue", "Prévue"),
    Choice(WORKSHOP_HELD, "Réalisée"),
    Choice(WORKSHOP_CANCELLED, "Annulée"),
)

WORKSHOPS = Contract(
    dataset="ateliers",
    title="Ateliers numériques",
    description=(
        "Une ligne par séance d'atelier : séances passées avec la fréquentation, "
        "séances à venir avec les places et le contact d'inscription."
    ),
    key="identifiant_seance",
    status_column="statut",
    held_status=WORKSHOP_HELD,
    cancelled_status=WORKSHOP_CANCELLED,
    date_column="date",
    date_meaning="date de la séance",
    file_words=("atelier", "ateliers", "seance", "seances"),
    breakdowns=(Breakdown("thematique", "Thématique", ("seances_realisees", "participants")),
                Breakdown("public", "Public visé", ("seances_realisees", "participants"))),
    columns=(
        Column("identifiant_seance", "Identifiant de la séance", "text",
               "Votre identifiant de la séance, unique dans vos fichiers ; il sert à corriger "
               "une séance en renvoyant une ligne avec le même identifiant.", "ATL-2026-001",
               aliases=("id", "identifiant", "id_seance", "numero_seance")),
        Column("commune", "Commune (code INSEE)", "insee",
               "Code INSEE à 5 caractères de la commune où a lieu la séance.", "91477",
               aliases=("code_insee", "insee", "code_commune")),
        Column("lieu", "Lieu", "text",
               "Nom du lieu d'accueil (médiathèque, mairie, France Services…).",
               "Médiathèque George Sand"),
        Column("adresse", "Adresse du lieu", "text",
               "Adresse postale du lieu, pour que les habitants le trouvent.",
               "1 place de la Mairie, 91120 Palaiseau", required=False),
        Column("date", "Date", "date", "Date de la séance (JJ/MM/AAAA).", "31/01/2026",
               aliases=("date_seance", "jour")),
        Column("heure_debut", "Heure de début", "time", "Heure de début (14h30 ou 14:30).",
               "14h30",
               aliases=("heure", "debut", "horaire")),
        Column("duree_minutes", "Durée (minutes)", "integer",
               "Durée de la séance en minutes (environ une heure en général).", "60",
               minimum=15, maximum=480,
               aliases=("duree", "duree_min", "duree_en_minutes")),
        Column("thematique", "Thématique", "choice", "Thème de l'atelier.",
               WORKSHOP_TOPICS[0].label, choices=WORKSHOP_TOPICS,
               aliases=("theme", "sujet")),
        Column("public", "Public visé", "choice", "Public auquel la séance s'adresse.",
               WORKSHOP_PUBLICS[0].label, choices=WORKSHOP_PUBLICS,
               aliases=("public_vise", "publics")),
        Column("places", "Places", "integer", "Nombre de places ouvertes (groupes de 5 à 12).",
               "10", minimum=1, maximum=30,
               aliases=("nombre_de_places", "capacite", "places_ouvertes")),
        Column("inscrits", "Inscrits", "integer", "Nombre de personnes inscrites.", "8",
               minimum=0, maximum=30,
               aliases=("nombre_inscrits", "nb_inscrits")),
        Column("presents", "Présents", "integer",
               "Nombre de personnes venues ; vide pour une séance à venir.", "7",
               required=False, minimum=0, maximum=30, required_when_status=(WORKSHOP_HELD,),
               aliases=("nombre_presents", "nb_presents", "participants")),
        Column("statut", "Statut", "choice", "Prévue, réalisée ou annulée.",
               WORKSHOP_STATUSES[1].label, choices=WORKSHOP_STATUSES),
        Column("inscription", "Comment s'inscrire", "text",
               "Contact public pour s'inscrire (accueil de la mairie, numéro du service) ; "
               "jamais les coordonnées d'un participant.", "Accueil de la mairie, 01 69 31 00 00",
               aliases=("contact_inscription", "inscriptions"), public_contact=True),
    ),
    pair_rules=(
        PairRule("inscrits", "places",
                 "Il y a plus d'inscrits que de places.",
                 "Vérifiez le nombre de places ou le nombre d'inscrits."),
        PairRule("presents", "inscrits",
                 "Il y a plus de présents que d'inscrits.",
                 "Comptez les personnes venues sans inscription parmi les inscrits, "
                 "ou corrigez le nombre de présents."),
    ),
)

VOUCHERS = Contract(
    dataset="pass",
    title="Pass numérique",
    description=(
        "Une ligne par pass (chèque) : sa remise à un habitant par un prescripteur, puis son "
        "utilisation dans un lieu agréé. Aucune identité de bénéficiaire."
    ),
    key="numero_pass",
    date_column="date_distribution",
    date_meaning="date de remise du pass",
    file_words=("pass", "cheque", "cheques", "aptic", "chequier"),
    columns=(
        Column("numero_pass", "Numéro du pass", "text",
               "Numéro imprimé sur le pass, unique.", "PN-2026-000123",
               aliases=("pass", "numero", "numero_cheque", "n_pass", "code_pass")),
        Column("numero_carnet", "Numéro du carnet", "text",
               "Numéro du carnet (chéquier) dont le pass fait partie.", "C-2026-0012",
               aliases=("carnet", "numero_chequier", "chequier", "n_carnet")),
        Column("valeur_euros", "Valeur (euros)", "decimal",
               "Valeur faciale du pass en euros.", "10", minimum=1, maximum=100,
               aliases=("valeur", "montant", "valeur_faciale")),
        Column("date_distribution", "Date de remise", "date",
               "Date à laquelle le pass a été remis à l'habitant.", "15/01/2026",
               aliases=("date_remise", "remis_le", "date_de_distribution")),
        Column("prescripteur", "Prescripteur", "text",
               "Structure qui a remis le pass (CCAS, France Services, Mission locale…).",
               "CCAS de Massy", aliases=("distributeur", "structure_prescriptrice")),
        Column("commune", "Commune (code INSEE)", "insee",
               "Code INSEE de la commune où le pass a été remis.", "91377",
               aliases=("code_insee", "insee", "code_commune")),
        Column("date_utilisation", "Date d'utilisation", "date",
               "Date à laquelle le pass a été utilisé ; vide s'il ne l'a pas encore été.",
               "02/02/2026", required=False,
               aliases=("utilise_le", "date_encaissement", "date_de_utilisation")),
        Column("lieu_utilisation", "Lieu d'utilisation", "text",
               "Identifiant (colonne « id » de l'annuaire des lieux) ou nom du lieu où le pass "
               "a été utilisé ; vide s'il ne l'a pas encore été.", "lieu-massy-01",
               required=False, aliases=("lieu", "structure_utilisation", "lieu_encaissement")),
    ),
    pair_rules=(
        PairRule("date_distribution", "date_utilisation",
                 "Le pass a été utilisé avant d'avoir été remis.",
                 "Vérifiez la date de remise et la date d'utilisation."),
    ),
    together_rules=(
        RequiredTogether("date_utilisation", "lieu_utilisation",
                         "Un pass utilisé doit indiquer le lieu où il l'a été.",
                         "Indiquez le lieu d'utilisation, ou videz la date d'utilisation."),
        RequiredTogether("lieu_utilisation", "date_utilisation",
                         "Un lieu d'utilisation est indiqué sans date d'utilisation.",
                         "Indiquez la date d'utilisation, ou videz le lieu."),
    ),
    cross_checks=(
        # A redemption, once recorded, is a fact: a later file may repeat it as it is, but not
        # move it to another date or venue, nor clear it, and another partner may not redeem
        # the same pass. Any other column of the pass may still be corrected by a new row.
        # A genuine typo in a recorded redemption is undone explicitly, by withdrawing the pass
        # (``retrait_pass…csv``, pipeline.ingest.withdrawals), then sending the corrected row.
        CrossCheck("pass_utilise_deux_fois",
                   "Un pass déjà utilisé ne peut pas l'être une seconde fois, et son "
                   "utilisation enregistrée (date, lieu) ne peut être ni changée ni effacée par "
                   "un nouvel envoi.",
                   "Un pass ne s'utilise qu'une fois : vérifiez le numéro du pass, ou reprenez "
                   "la date et le lieu d'utilisation déjà enregistrés. Si c'est l'utilisation "
                   "enregistrée, envoyée par vous, qui est fausse : déposez d'abord un fichier "
                   "« retrait_pass.csv » avec la colonne numero_pass et ce numéro, puis "
                   "renvoyez la ligne corrigée.", "erreur",
                   detail="Ce pass a déjà été utilisé le {date} à « {lieu} », d'après le "
                          "fichier « {fichier} » reçu le {recu}."),
        CrossCheck("lieu_inconnu",
                   "Ce lieu d'utilisation n'est pas dans l'annuaire des lieux.",
                   "Utilisez l'identifiant du lieu tel qu'il figure dans l'annuaire, ou "
                   "demandez son ajout.", "avertissement"),
    ),
)

COLLECTION = Contract(
    dataset="collecte",
    title="Collecte de téléphones",
    description=(
        "Une ligne par relève d'un collecteur de téléphones usagés : date, commune, point de "
        "collecte et nombre de téléphones relevés. Le tri (reconditionnés, recyclés) est envoyé "
        "par le reconditionneur dans son propre fichier « tri »."
    ),
    key="identifiant_collecte",
    date_column="date",
    date_meaning="date de la relève du collecteur",
    file_words=("collecte", "collectes", "releve", "releves", "telephones", "mobiles"),
    columns=(
        Column("identifiant_collecte", "Identifiant de la relève", "text",
               "Votre identifiant de la relève, repris par le reconditionneur.", "COL-2026-0001",
               aliases=("id", "identifiant", "id_releve", "numero_releve")),
        Column("date", "Date de la relève", "date", "Date à laquelle le collecteur a été vidé.",
               "28/02/2026", aliases=("date_releve", "date_collecte")),
        Column("commune", "Commune (code INSEE)", "insee",
               "Code INSEE de la commune du point de collecte.", "91471",
               aliases=("code_insee", "insee", "code_commune")),
        Column("point_collecte", "Point de collecte", "text",
               "Lieu du collecteur (mairie, médiathèque, conservatoire…), avec son adresse.",
               "Mairie d'Orsay, 2 place du Général Leclerc",
               aliases=("lieu", "point_de_collecte", "collecteur", "emplacement")),
        Column("telephones_collectes", "Téléphones collectés", "integer",
               "Nombre de téléphones trouvés dans le collecteur.", "37", minimum=0,
               maximum=5000, aliases=("telephones", "nombre_telephones", "quantite", "mobiles")),
    ),
    cross_checks=(
        # The same rule as the sorting's ``tri_superieur_collecte``, seen from the pickup:
        # whichever of the two files arrives second is checked against the other.
        CrossCheck("collecte_inferieure_au_tri",
                   "Le reconditionneur a déjà déclaré plus de téléphones triés pour cette "
                   "relève que de téléphones collectés indiqués ici.",
                   "Vérifiez le nombre de téléphones collectés et l'identifiant de la relève. "
                   "S'ils sont justes, c'est le fichier de tri qui est faux : signalez-le à "
                   "l'équipe de l'agglomération, qui le fera corriger, puis déposez à nouveau "
                   "ce fichier.", "erreur",
                   detail="Le reconditionneur a déjà déclaré {tries} téléphones triés "
                          "(reconditionnés + recyclés) pour cette relève dans le fichier "
                          "« {fichier} » : plus que les {collectes} téléphones collectés "
                          "indiqués ici."),
        # Only in communes whose bins territory.toml declares ([[collection_points]]): a point
        # it does not know is still counted, but the site can give neither address nor hours.
        CrossCheck("point_non_declare",
                   "Ce point de collecte ne fait pas partie des collecteurs déclarés pour "
                   "cette commune : ses téléphones sont comptés, mais le site l'affiche sans "
                   "adresse, sans horaires et sans affiche.",
                   "Écrivez le nom du point exactement comme l'agglomération l'a déclaré, ou "
                   "demandez-lui de déclarer ce nouveau collecteur avec son adresse et ses "
                   "horaires.", "avertissement",
                   detail="« {point} » n'est pas un collecteur déclaré pour cette commune "
                          "({declares})."),
    ),
)

SORTING = Contract(
    dataset="tri",
    title="Tri des téléphones collectés",
    description=(
        "Envoyé par le reconditionneur : une ligne par relève triée, avec le nombre de "
        "téléphones reconditionnés (effacés, testés, revendus au profit d'Emmaüs International) "
        "et recyclés."
    ),
    key="identifiant_collecte",
    commune_column="",
    completes="collecte",
    file_words=("tri", "reconditionnement", "reconditionnes", "recyclage"),
    columns=(
        Column("identifiant_collecte", "Identifiant de la relève", "text",
               "Identifiant de la relève tel qu'envoyé par la commune.", "COL-2026-0001",
               aliases=("id", "identifiant", "id_releve", "numero_releve")),
        Column("telephones_reconditionnes", "Téléphones reconditionnés", "integer",
               "Téléphones effacés, testés et reconditionnés.", "21", minimum=0, maximum=5000,
               aliases=("reconditionnes", "reemploi", "reutilises")),
        Column("telephones_recycles", "Téléphones recyclés", "integer",
               "Téléphones hors d'usage envoyés au recyclage.", "16", minimum=0, maximum=5000,
               aliases=("recycles", "recyclage")),
    ),
    cross_checks=(
        CrossCheck("tri_superieur_collecte",
                   "Il y a plus de téléphones triés (reconditionnés + recyclés) que de "
                   "téléphones collectés lors de cette relève.",
                   "Vérifiez les nombres, ou l'identifiant de la relève.", "erreur"),
        # A sorting may arrive before its pickup: it is kept, and checked against the pickup
        # when the pickup file arrives (cross-check ``collecte_inferieure_au_tri``).
        CrossCheck("releve_inconnue",
                   "Cette relève n'a pas encore été déclarée par la commune : le tri est "
                   "enregistré et sera comparé à la relève quand elle arrivera.",
                   "Rien à faire si la commune l'envoie bientôt ; sinon vérifiez l'identifiant.",
                   "avertissement"),
    ),
)

CONTRACTS: dict[str, Contract] = {c.dataset: c for c in (WORKSHOPS, VOUCHERS, COLLECTION,
                                                          SORTING, VENUES)}


def contract_for(dataset: str) -> Contract:
    return CONTRACTS[dataset]
