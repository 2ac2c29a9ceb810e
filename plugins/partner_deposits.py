"""Airflow plugin: the « Dépôts des partenaires » pages inside the Airflow UI.

Wiring only. The pages (``pipeline.report.deposits_web``) are mounted in the API server under
``/depots`` and listed in the UI's navigation (menu « Parcourir ») as an embedded view. Plugin
routes are not protected by Airflow on their own: every request goes through Airflow's own
authorisation dependency, so an anonymous visitor is refused (401) and a user needs the right
to see the Airflow site (any role of the auth manager in use).
"""

from __future__ import annotations

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin

from pipeline.report.deposits_web import build_app

URL_PREFIX = "/depots"


class PartnerDepositsPlugin(AirflowPlugin):
    name = "depots_partenaires"
    fastapi_apps = [{"name": "depots_partenaires", "url_prefix": URL_PREFIX,
                     "app": build_app(requires_access_view(AccessView.WEBSITE))}]
    external_views = [{"name": "Dépôts des partenaires", "href": "depots/",
                       "url_route": "depots-partenaires", "destination": "nav",
                       "category": "browse"}]
