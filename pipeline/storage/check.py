"""The storage areas checked at the start of every DAG run, before any file is touched.

A misconfigured area would otherwise fail deep in a task, after retries, with an error from
the store's client. ``check_storage`` fails at once with one French message that names the
setting to fix: an area URL with a scheme the project does not handle or without a bucket,
the inboxes on an object store while the state the workers share (``INCLUSION_STATE_URL``)
stays in each data folder, the Airflow connection missing or without credentials, a bucket
that does not exist or a store that cannot be reached. Areas in the data folder (the default)
cost nothing: no client is imported. Messages never show a secret: only the setting's name, the
scheme, the bucket, the connection id and the store's error code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline import settings
from pipeline.storage import AREAS, LOCAL_SCHEMES

REMOTE_SCHEMES = ("s3",)
USAGE = ("écrivez s3://<compartiment>/<préfixe>, ou laissez la variable vide pour utiliser le "
         "dossier de données")
CREDENTIAL_EXTRAS = ("aws_access_key_id", "role_arn", "profile_name")


class StorageError(Exception):
    """A storage area cannot be used; the message says which setting to fix, in French."""


def check_storage() -> None:
    """Raise ``StorageError`` for the first area that cannot be used."""
    buckets: dict[str, str] = {}  # bucket -> the setting that names it first
    for setting, _folder in AREAS.values():
        url = settings.get(setting)
        if url:
            bucket = _bucket_of(setting, url)
            if bucket:
                buckets.setdefault(bucket, setting)
    if _bucket_of("INCLUSION_INBOX_URL", settings.get("INCLUSION_INBOX_URL") or "") and \
            not settings.get("INCLUSION_STATE_URL"):
        raise StorageError(
            "INCLUSION_STATE_URL : les dossiers de dépôt sont sur un stockage objet "
            "(INCLUSION_INBOX_URL), mais l'état que les workers doivent partager (pannes de "
            "chaque fichier, alertes déjà envoyées) resterait dans le dossier de données de "
            "chaque machine ; réglez INCLUSION_STATE_URL sur le même stockage, par exemple "
            "s3://<compartiment>/etat.")
    if buckets:
        conn_id = settings.get("INCLUSION_STORAGE_CONN_ID")
        _check_connection(conn_id, sorted(buckets.values())[0])
        for bucket, setting in buckets.items():
            _check_bucket(conn_id, bucket, setting)


def _bucket_of(setting: str, url: str) -> str | None:
    """The bucket of a remote area; None for an area in a local folder."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "://" not in url or scheme in LOCAL_SCHEMES:
        return None
    if scheme not in REMOTE_SCHEMES:
        raise StorageError(f"{setting} : le schéma « {scheme}:// » n'est pas pris en charge "
                           f"(seuls file:// et s3:// le sont) ; {USAGE}.")
    if "@" in parts.netloc:
        raise StorageError(f"{setting} : l'adresse contient des identifiants ; retirez-les de "
                           "l'adresse et mettez-les dans la connexion Airflow nommée par "
                           "INCLUSION_STORAGE_CONN_ID.")
    if not parts.hostname:
        raise StorageError(f"{setting} : l'adresse « {scheme}://{parts.path} » ne nomme aucun "
                           f"compartiment ; {USAGE}.")
    return parts.hostname


def _check_connection(conn_id: str, setting: str) -> None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise StorageError(
            f"{setting} désigne un stockage objet, mais la connexion Airflow « {conn_id} » "
            "(INCLUSION_STORAGE_CONN_ID) n'existe pas : créez-la (type aws, login = clé "
            "d'accès, mot de passe = clé secrète, extra endpoint_url pour un stockage "
            f"compatible S3), par exemple dans la variable AIRFLOW_CONN_{conn_id.upper()}."
        ) from None
    extra = connection.extra_dejson or {}
    has_keys = bool(connection.login and connection.password)
    if not has_keys and not any(extra.get(key) for key in CREDENTIAL_EXTRAS):
        raise StorageError(
            f"La connexion Airflow « {conn_id} » (INCLUSION_STORAGE_CONN_ID) n'a pas "
            "d'identifiants : renseignez son login (clé d'accès) et son mot de passe (clé "
            "secrète), ou role_arn dans son extra.")


def _check_bucket(conn_id: str, bucket: str, setting: str) -> None:
    """One HEAD of the bucket, with short timeouts and two tries: a store down or a bucket
    missing shows at once."""
    from botocore.exceptions import BotoCoreError, ClientError

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id=conn_id, config={"connect_timeout": 5, "read_timeout": 10,
                                               "retries": {"max_attempts": 2}})
    try:
        hook.get_conn().head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "?"))
        if code in ("404", "NoSuchBucket"):
            raise StorageError(f"{setting} : le compartiment « {bucket} » n'existe pas sur le "
                               f"stockage de la connexion « {conn_id} » ; créez-le ou corrigez "
                               "l'adresse.") from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise StorageError(
                f"{setting} : accès refusé au compartiment « {bucket} » (code {code}) ; "
                f"vérifiez les identifiants de la connexion Airflow « {conn_id} » "
                "(INCLUSION_STORAGE_CONN_ID) et ses droits.") from None
        raise StorageError(f"{setting} : le compartiment « {bucket} » n'a pas pu être vérifié "
                           f"(code {code}).") from None
    except BotoCoreError as error:
        raise StorageError(f"{setting} : le stockage objet de la connexion « {conn_id} » est "
                           f"injoignable ({type(error).__name__}) ; vérifiez son endpoint_url "
                           "et le réseau.") from None
