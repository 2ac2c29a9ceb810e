"""Contract of the venue directory: the national open-data standard for digital-mediation venues
("lieux de médiation numérique", v1.0.2, LaMednum/standard-mediation-num, schema.data.gouv.fr).

Field names, order and closed lists are the standard's, so the directory can be exported back
unchanged for the national cartography. Multi-valued fields hold ``|``-separated values; files
following v0.1 of the standard (``;`` separators, older field names) are read and the report
says what was converted.
"""

from __future__ import annotations

from pipeline.contracts.model import Breakdown, Choice, Column, Contract, CrossCheck

STANDARD_VERSION = "1.0.2"


def _choices(*labels: str) -> tuple[Choice, ...]:
    return tuple(Choice(label, label) for label in labels)


SERVICES = _choices(
    "Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique", "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique", "Loisirs et créations numériques",
    "Compréhension du monde numérique", "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire")
PUBLICS = _choices("Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes")
SPECIFIC_SUPPORT = _choices(
    "Surdité", "Handicaps moteurs", "Handicaps mentaux", "Illettrisme",
    "Langues étrangères (anglais)", "Langues étrangères (autres)", "Déficience visuelle")
FEES = _choices("Gratuit", "Gratuit sous condition", "Payant")
NATIONAL_PROGRAMMES = _choices(
    "Aidants Connect", "Bibliothèques numérique de référence", "Certification PIX",
    "Conseillers numériques", "Emmaüs Connect", "France Services", "Grande école du numérique",
    "La Croix Rouge", "Point d'accès numérique CAF", "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)")
LABELS = _choices(
    "Formé à « Mon Espace Santé »", "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)", "Étapes numériques(La Poste)",
    "Fabriques de Territoire", "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)", "ORDI 3.0", "SUD LABS (PACA)")
ACCESS = _choices(
    "Se présenter", "Téléphoner", "Contacter par mail", "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public", "Envoyer un mail avec une fiche de prescription")
SUPPORT_MODES = _choices(
    "En autonomie", "Accompagnement individuel", "Dans un atelier collectif", "À distance")
ROAMING = _choices("Itinérant", "Fixe")


def _multi(name: str, label: str, description: str, example: str, choices: tuple[Choice, ...],
           aliases: tuple[str, ...] = (), descriptive: bool = True) -> Column:
    return Column(name, label, "multichoice", description, example, required=False,
                  choices=choices, multiple=True, aliases=aliases,
                  drop_unknown_choices=descriptive)


VENUES = Contract(
    dataset="lieux",
    title="Lieux de médiation numérique",
    description=(
        "Une ligne par lieu, au format du standard national des lieux de médiation numérique "
        f"(version {STANDARD_VERSION}). Les listes de valeurs sont séparées par « | »."
    ),
    key="id",
    date_meaning="état de l'annuaire au jour de la publication",
    commune_column="code_insee",
    commune_name_column="commune",
    breakdowns=(Breakdown("services", "Service", ("lieux_recenses",)),
                Breakdown("dispositif_programmes_nationaux", "Label ou dispositif",
                          ("lieux_recenses",), name="dispositif")),
    file_words=("lieux", "lieu", "structures", "mediation", "annuaire", "cartographie"),
    columns=(
        Column("id", "Identifiant unique local du lieu", "text",
               "Identifiant du lieu chez vous, stable d'un envoi à l'autre.", "structure-1",
               aliases=("identifiant", "id_lieu")),
        Column("pivot", "SIRET ou RNA ou RIDET", "text",
               "SIRET (14 chiffres), ou RNA (W suivi de 9 chiffres) de la structure.",
               "43493312300029", pattern=r"^[a-zA-Z0-9]{9,14}$",
               pattern_hint="un SIRET de 14 chiffres ou un RNA comme W123456789",
               aliases=("siret", "rna", "ridet")),
        Column("nom", "Nom", "text", "Nom du lieu.", "Médiathèque George Sand",
               aliases=("nom_lieu", "nom_structure")),
        Column("commune", "Commune", "text", "Nom de la commune du lieu.", "Palaiseau",
               aliases=("ville", "nom_commune")),
        Column("code_postal", "Code postal", "text", "Code postal à 5 chiffres.", "91120",
               pattern=r"^\d{5}$", pattern_hint="5 chiffres, par exemple 91120",
               aliases=("cp", "codepostal")),
        Column("code_insee", "Code INSEE", "insee",
               "Code officiel géographique de la commune ; déduit du nom de la commune s'il "
               "est vide.", "91477", required=False,
               aliases=("insee", "code_commune", "cog")),
        Column("adresse", "Adresse", "text", "Numéro et voie.", "1 place de la Mairie",
               aliases=("adresse_postale", "voie")),
        Column("complement_adresse", "Complément d'adresse", "text",
               "Étage, bâtiment, lieu-dit…", "2e étage", required=False),
        Column("latitude", "Latitude", "decimal", "Latitude WGS84.", "48.7145",
               required=False, minimum=-90, maximum=90, aliases=("lat",)),
        Column("longitude", "Longitude", "decimal", "Longitude WGS84.", "2.2457",
               required=False, minimum=-180, maximum=180, aliases=("lon", "lng", "long")),
        Column("typologie", "Typologie", "text",
               "Type(s) de structure du référentiel data.inclusion (CCAS, ASSO, BIB…).",
               "BIB", required=False, multiple=True),
        Column("telephone", "Numéro de téléphone", "phone",
               "Téléphone public du lieu, au format international (+33…).", "+33169310000",
               required=False, pattern=r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}$",
               pattern_hint="un numéro comme 01 69 31 00 00 ou +33169310000",
               aliases=("tel", "telephone_lieu", "numero_de_telephone", "n_de_telephone",
                        "numero_telephone", "telephone_accueil")),
        Column("courriels", "Courriel(s)", "email",
               "Adresse(s) électronique(s) publique(s) du lieu, séparées par « | ».",
               "contact@mediatheque.example.org", required=False, multiple=True,
               pattern=r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+(\|[^@\s|]+@[^@\s|]+\.[^@\s|]+)*$",
               pattern_hint="une adresse comme accueil@mairie.fr",
               aliases=("courriel", "email", "mail", "e_mail", "adresse_e_mail",
                        "adresse_mail", "adresse_electronique", "courriel_du_lieu")),
        Column("site_web", "Site web", "url", "Adresse(s) du site web, séparées par « | ».",
               "https://www.example.org/", required=False, multiple=True,
               pattern=r"^https?://[^\s|]+(\|https?://[^\s|]+)*$",
               pattern_hint="une adresse commençant par https://",
               aliases=("site", "site_internet", "url")),
        Column("horaires", "Horaires", "text",
               "Horaires d'ouverture au format OpenStreetMap (opening_hours).",
               "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00", required=False,
               aliases=("horaires_osm", "opening_hours")),
        Column("presentation_resume", "Présentation résumé", "text",
               "Courte présentation (280 caractères au plus).",
               "Accompagnement gratuit aux démarches en ligne.", required=False, max_length=280,
               multiline=True, public_contact=True),
        Column("presentation_detail", "Présentation détaillée", "text",
               "Présentation détaillée du lieu.", "Ateliers le mardi matin.", required=False,
               multiline=True, public_contact=True),
        Column("source", "Structure collectant la donnée", "text",
               "Structure qui a collecté la donnée.", "Agglomération Paris-Saclay",
               required=False),
        _multi("itinerance", "Itinérance", "Itinérant ou Fixe.", "Fixe", ROAMING,
               descriptive=False),
        Column("structure_parente", "Structure parente", "text",
               "Réseau ou structure dont le lieu fait partie.", "Ville de Palaiseau",
               required=False),
        Column("date_maj", "Date de mise à jour", "date",
               "Date de dernière mise à jour de la fiche.", "2026-01-15",
               aliases=("date_mise_a_jour", "maj", "mise_a_jour")),
        _multi("services", "Services", "Accompagnements proposés, parmi la liste nationale.",
               "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
               SERVICES, descriptive=False),
        _multi("publics_specifiquement_adresses", "Publics spécifiquement adressés",
               "Publics auxquels le lieu est réservé ; vide si tout public.", "Seniors", PUBLICS,
               aliases=("publics_accueillis", "public_specifiquement_adresse", "publics")),
        _multi("prise_en_charge_specifique", "Prise en charge spécifique",
               "Besoins particuliers que le lieu sait accompagner.", "Déficience visuelle",
               SPECIFIC_SUPPORT),
        _multi("frais_a_charge", "Frais à charge", "Conditions financières.", "Gratuit", FEES,
               aliases=("frais", "tarifs")),
        _multi("dispositif_programmes_nationaux", "Dispositifs et programmes nationaux",
               "Dispositifs nationaux du lieu.", "France Services|Conseillers numériques",
               NATIONAL_PROGRAMMES, aliases=("labels_nationaux", "dispositifs")),
        _multi("formations_labels", "Formations et labels", "Formations et labels obtenus.",
               "Formé à « Mon Espace Santé »", LABELS, aliases=("labels_autres",)),
        Column("autres_formations_labels", "Autres formations et labels", "text",
               "Autres formations ou labels (par exemple « Pass numérique »).", "Pass numérique",
               required=False),
        _multi("modalites_acces", "Modalités d'accès", "Comment venir au lieu.",
               "Se présenter|Téléphoner", ACCESS),
        _multi("modalites_accompagnement", "Modalités d'accompagnement",
               "Types d'accompagnement.", "Accompagnement individuel|Dans un atelier collectif",
               SUPPORT_MODES, aliases=("modalites_d_accompagnement",)),
        Column("fiche_acces_libre", "Fiche Accès libre", "url",
               "Adresse de la fiche du lieu sur acceslibre.beta.gouv.fr (accessibilité).",
               "https://acceslibre.beta.gouv.fr/app/91-palaiseau/a/bibliotheque/erp/exemple/",
               required=False, pattern=r"^https?://\S+$",
               pattern_hint="une adresse commençant par https://"),
        Column("prise_rdv", "Prise de rdv", "url",
               "Adresse de prise de rendez-vous en ligne.", "https://www.rdv-solidarites.fr/",
               required=False, pattern=r"^https?://\S+$",
               pattern_hint="une adresse commençant par https://"),
    ),
    cross_checks=(
        CrossCheck("horaires_illisibles",
                   "Ces horaires ne suivent pas le format OpenStreetMap ; ils seront affichés "
                   "tels quels.",
                   "Écrivez-les comme « Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00 » "
                   "(l'outil YoHours aide à les écrire).", "avertissement"),
        CrossCheck("sans_coordonnees",
                   "Ce lieu n'a pas de coordonnées : il figure dans l'annuaire, mais ne peut pas "
                   "être classé par distance (« Autour de moi », « près de ma commune »).",
                   "Ajoutez sa latitude et sa longitude en degrés décimaux WGS84 (par exemple "
                   "48.7145 et 2.2457) ; la Base Adresse Nationale (adresse.data.gouv.fr) les "
                   "donne pour une adresse.", "avertissement"),
    ),
)
