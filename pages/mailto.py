"""``mailto:`` links of the venue pages: « Envoyer par courriel » (the venue's name, address,
hours and phone, to send to oneself or to someone one helps) and « Signaler une erreur » (to
the directory's stewards, with the venue's name, id and page address).

Every part is percent-encoded (RFC 6068): partner text may hold ``&``, ``?``, ``#``, ``%``,
quotes or line breaks, which must stay text in the message and never end the subject or add a
header. Line breaks are ``%0D%0A``.
"""

from __future__ import annotations

from urllib.parse import quote


def mailto(address: str, subject: str, body: str) -> str:
    """``mailto:<address>?subject=…&body=…``; ``address`` may be empty (the reader chooses)."""
    def encode(text: str) -> str:
        return quote(text.replace("\r\n", "\n").replace("\n", "\r\n"), safe="")

    return f"mailto:{quote(address, safe='@')}?subject={encode(subject)}&body={encode(body)}"


def venue_address(venue: dict) -> str:
    street = ", ".join(filter(None, (venue.get("adresse"), venue.get("complement_adresse"))))
    town = " ".join(filter(None, (venue.get("code_postal"), venue.get("nom_commune"))))
    return ", ".join(filter(None, (street, town)))


def share_link(venue: dict, page_url: str) -> str:
    """What a resident or a referrer sends about a venue: enough to go there without the site."""
    lines = [venue["nom"], venue_address(venue)]
    if venue.get("horaires"):
        lines += ["", "Horaires :", *(f"- {line}" for line in venue["horaires"])]
    if venue.get("telephone"):
        lines += ["", f"Téléphone : {venue['telephone']}"]
    lines += ["", f"Plus d'informations : {page_url}"]
    return mailto("", f"Lieu d'aide au numérique : {venue['nom']}", "\n".join(lines))


def report_link(venue: dict, steward: str, page_url: str) -> str:
    """« Signaler une erreur » to the stewards, who find the row from the id and the page."""
    body = "\n".join([f"Lieu : {venue['nom']}", f"Identifiant : {venue['id']}",
                      f"Page : {page_url}", "", "Ce qui est faux ou a changé :", ""])
    return mailto(steward, f"Erreur sur la fiche « {venue['nom']} »", body)
