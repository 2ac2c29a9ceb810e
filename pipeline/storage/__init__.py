"""Where each storage area lives: the local data folder by default, or an object store.

Every area (partner inboxes, archive, quarantine, alerts, the workers' shared state, site
builds) is reached through
Airflow's ``ObjectStoragePath`` from one base URL per area (``INCLUSION_<AREA>_URL``). Unset, an
area is its folder in the data folder (``file://``), so ``make demo`` and ``make test`` see the
same folders as before. An ``s3://bucket/prefix`` URL goes through the Amazon provider (s3fs),
authenticated by the Airflow connection ``INCLUSION_STORAGE_CONN_ID`` (an ``AIRFLOW_CONN_…``
environment variable or a secrets backend); credentials never appear in ``territory.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pipeline import settings

if TYPE_CHECKING:  # airflow.sdk is imported when a path is asked for, not at import
    from airflow.sdk import ObjectStoragePath

# area -> (setting naming its base URL, folder under the data folder when the setting is unset)
AREAS: dict[str, tuple[str, str]] = {
    "inbox": ("INCLUSION_INBOX_URL", "inbox"),
    "archive": ("INCLUSION_ARCHIVE_URL", "archive"),
    "quarantine": ("INCLUSION_QUARANTINE_URL", "quarantine"),
    "alerts": ("INCLUSION_ALERTS_URL", "alertes"),
    "state": ("INCLUSION_STATE_URL", "etat"),
    "site": ("INCLUSION_SITE_STORE_URL", "site"),
}
LOCAL_SCHEMES = ("", "file", "local")


def area_url(area: str) -> str:
    """The area's base URL as configured, or ``file://`` of its folder in the data folder."""
    setting, folder = AREAS[area]
    configured = settings.get(setting)
    if configured:
        return configured.rstrip("/")
    return (settings.get("INCLUSION_DATA").resolve() / folder).as_uri()


def in_data_folder(area: str) -> bool:
    """Whether the area is its own folder of the data folder: its setting unset (the default)
    or naming that very folder. Nothing then has to be copied anywhere."""
    setting, folder = AREAS[area]
    configured = settings.get(setting)
    return not configured or area_url(area) == (
        settings.get("INCLUSION_DATA").resolve() / folder).as_uri()


def is_local(area: str) -> bool:
    url = area_url(area)
    return (url.partition("://")[0] if "://" in url else "") in LOCAL_SCHEMES


def area(area: str) -> ObjectStoragePath:
    """The area's base as an ``ObjectStoragePath`` (the connection only for remote stores)."""
    from airflow.sdk import ObjectStoragePath

    url = area_url(area)
    if is_local(area):
        return ObjectStoragePath(url)
    return ObjectStoragePath(url, conn_id=settings.get("INCLUSION_STORAGE_CONN_ID"))


def local_folder(name: str) -> Path:
    """The area's folder on this machine: the configured ``file://`` folder, else its folder in
    the data folder (for an area on an object store, where this worker falls back when the
    store cannot be reached)."""
    setting, folder = AREAS[name]
    if is_local(name) and settings.get(setting) and "://" in area_url(name):
        return Path(url2pathname(urlsplit(area_url(name)).path))
    if is_local(name) and settings.get(setting):
        return Path(area_url(name))
    return settings.get("INCLUSION_DATA") / folder
