"""« Dépôts des partenaires »: the lateness rules, each file's Great Expectations result kept,
and the Airflow plugin's pages behind Airflow's own authentication (SimpleAuthManager)."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO

from pipeline.check import results
from pipeline.config import DEFAULT_TERRITORY_FILE, ConfigError, load_territory
from pipeline.load.ledger import LedgerEntry
from pipeline.report.deposits import age_in_days, days_overdue, partner_deposits

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_age_counts_whole_days_and_a_future_reception_counts_as_now():
    assert age_in_days(NOW - timedelta(days=3, hours=23), NOW) == 3
    assert age_in_days(NOW - timedelta(days=4), NOW) == 4
    assert age_in_days(NOW + timedelta(days=40), NOW) == 0  # a partner's clock ahead


def test_late_only_past_the_cadence_and_never_without_one():
    assert days_overdue(7, 7) is None  # the last day of the period is still on time
    assert days_overdue(8, 7) == 1
    assert days_overdue(0, 7) is None
    assert days_overdue(10_000, None) is None  # no cadence: never late
    assert days_overdue(None, None) is None
    assert days_overdue(None, 31) == 0  # expected, and nothing ever received


def _entry(partner: str, received: datetime, sha: str = "a" * 64, **fields) -> LedgerEntry:
    values = dict(partner=partner, sha256=sha, dataset="ateliers", original_name="f.csv",
                  received_at=received.isoformat(), status="accepte", rows_total=3,
                  rows_loaded=3, errors=0, warnings=0, stored_path="archive/x", report="")
    values.update(fields)
    return LedgerEntry(**values)


def test_late_partners_come_first_the_longest_overdue_first():
    territory = load_territory(DEFAULT_TERRITORY_FILE)
    cadence = {p.id: p.cadence_days for p in territory.partners}
    assert cadence["operateur-pass"] == 7 and cadence["agglo-lieux"] is None
    entries = [_entry(p.id, NOW - timedelta(days=1)) for p in territory.partners]
    entries += [_entry("operateur-pass", NOW - timedelta(days=30), "b" * 64),  # older: ignored
                _entry("ville-massy", NOW - timedelta(days=45), "c" * 64),
                _entry("agglo-lieux", NOW - timedelta(days=900), "d" * 64)]
    entries = [e for e in entries if not (e.partner in ("ville-massy", "agglo-lieux")
                                          and e.sha256 == "a" * 64)]
    entries.append(_entry("orange-collecte", NOW + timedelta(days=400), "e" * 64))  # skew
    found = partner_deposits(territory, entries, NOW)
    assert [d.partner.id for d in found if d.late] == ["ville-massy"]
    assert found[0].partner.id == "ville-massy" and found[0].overdue == 45 - 31
    by_id = {d.partner.id: d for d in found}
    assert by_id["agglo-lieux"].age_days == 900 and not by_id["agglo-lieux"].late
    assert by_id["operateur-pass"].age_days == 1
    assert by_id["orange-collecte"].age_days == 0 and not by_id["orange-collecte"].late


@pytest.mark.parametrize("value, days", [('"hebdomadaire"', 7), ('"Mensuel"', 31),
                                         ('"trimestriel"', 92), ('"annuel"', 366), ("10", 10)])
def test_a_cadence_is_a_word_or_a_number_of_days(tmp_path, value, days):
    path = tmp_path / "territoire.toml"
    path.write_text(_territory(f"cadence = {value}"), encoding="utf-8")
    assert load_territory(path).partners[0].cadence_days == days


@pytest.mark.parametrize("value", ['"tous les mois"', "0", "-3", "true", "2.5"])
def test_a_bad_cadence_is_refused_naming_the_partner_and_the_key(tmp_path, value):
    path = tmp_path / "territoire.toml"
    path.write_text(_territory(f"cadence = {value}"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_territory(path)
    message = str(error.value)
    assert "partner 'essai'" in message and "key cadence" in message
    assert "hebdomadaire" in message and "number of days" in message


def _territory(extra: str) -> str:
    return ('[territory]\nname = "Essai"\n\n[[communes]]\ninsee = "91477"\nname = "Palaiseau"\n'
            f'\n[[partners]]\nid = "essai"\nname = "Essai"\ndatasets = ["ateliers"]\n{extra}\n')


def test_a_late_partner_is_reminded_once_per_overdue_period(data_dir):
    from pipeline.config import data_paths
    from pipeline.reminders import remind_late_partners

    territory, paths = load_territory(DEFAULT_TERRITORY_FILE), data_paths()
    fresh = [_entry(p.id, NOW - timedelta(days=1), sha=f"{n:064x}")
             for n, p in enumerate(territory.partners) if p.id != "operateur-pass"]
    weekly = _entry("operateur-pass", NOW - timedelta(days=8), original_name="pass.csv")
    entries = [*fresh, weekly, _entry("agglo-lieux", NOW - timedelta(days=999), "f" * 64)]

    def remind(days_later: float, items=entries) -> list[str]:
        now = NOW + timedelta(days=days_later)
        return [r.partner for r in remind_late_partners(territory, paths, items, now)]

    assert remind(0) == ["operateur-pass"]  # 8 days, weekly: late; agglo-lieux has no cadence
    alert = next((data_dir / "alertes").glob("*.txt")).read_text(encoding="utf-8")
    assert alert.startswith("Partenaire en retard : Opérateur du pass numérique")
    assert "« pass.csv »" in alert and "il y a 8 jours (1 jour de retard)" in alert
    assert remind(0) == [] and remind(6) == []  # the same period: 8 to 14 days
    assert remind(7) == ["operateur-pass"]  # 15 days: a second period without a file
    assert remind(8) == []
    newer = [*entries, _entry("operateur-pass", NOW + timedelta(days=1), "9" * 64)]
    assert remind(8, newer) == []  # a new file: on time again
    assert remind(9, newer) == ["operateur-pass"]  # 8 days after it
    assert len(list((data_dir / "alertes").glob("*.txt"))) == 3


# --- The plugin's pages, through Airflow's authentication ------------------------------------

def _plugin_module():
    spec = importlib.util.spec_from_file_location("partner_deposits",
                                                  REPO / "plugins" / "partner_deposits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIMPLE_AUTH_MANAGER = ("airflow.api_fastapi.auth.managers.simple.simple_auth_manager."
                       "SimpleAuthManager")


@pytest.fixture
def client(airflow_db, loaded_samples: Path, monkeypatch: pytest.MonkeyPatch):
    """The plugin's app as Airflow's API server mounts it, with the SimpleAuthManager (its
    tokens are checked against the metadata database's revoked tokens)."""
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", SIMPLE_AUTH_MANAGER)
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "secret-des-tests-de-depots-" * 3)
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
                       str(loaded_samples / "mots-de-passe.json"))
    from airflow.api_fastapi.app import init_auth_manager
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    plugin = _plugin_module().PartnerDepositsPlugin
    app = FastAPI()
    auth_manager = init_auth_manager(app)
    for sub in plugin.fastapi_apps:
        app.mount(sub["url_prefix"], sub["app"])
    with TestClient(app) as test_client:
        test_client.auth_manager = auth_manager
        yield test_client


def _token(client, role: str | None = "viewer") -> dict[str, str]:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return {"Authorization": "Bearer " + client.auth_manager.generate_jwt(
        SimpleAuthManagerUser(username="gestionnaire", role=role))}


def _ledger(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "warehouse" / "warehouse.sqlite") as db:
        return db.execute("SELECT partner, sha256, original_name FROM ledger "
                          "ORDER BY partner").fetchall()


def test_loading_the_plugin_imports_nothing_heavy():
    # Every Airflow process loads the plugins, task runners included.
    from test_dag_integrity import HEAVY_MODULES

    probe = ("import runpy, sys\n"
             f"runpy.run_path({str(REPO / 'plugins' / 'partner_deposits.py')!r})\n"
             f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
             "print(heavy)\nsys.exit(1 if heavy else 0)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_plugin_is_registered_in_the_ui_navigation():
    plugin = _plugin_module().PartnerDepositsPlugin
    assert plugin.fastapi_apps[0]["url_prefix"] == "/depots"
    view = plugin.external_views[0]
    assert view["name"] == "Dépôts des partenaires" and view["destination"] == "nav"
    assert view["href"] == "depots/" and view["url_route"]


@pytest.mark.parametrize("path", ["/depots/", "/depots/partenaires/ville-massy",
                                  "/depots/fichiers/ville-massy/" + "a" * 64,
                                  "/depots/rapports/ville-massy/x.rapport.txt"])
def test_an_anonymous_request_gets_no_data(client, path):
    refused = client.get(path)
    assert refused.status_code == 401
    assert "Ville de Massy" not in refused.text
    forged = client.get(path, headers={"Authorization": "Bearer pas-un-jeton"})
    assert forged.status_code in (401, 403)
    no_role = client.get(path, headers=_token(client, role=None))
    assert no_role.status_code == 403


def test_a_late_partner_is_listed_first_and_highlighted(client, loaded_samples):
    partner, sha, _name = next(row for row in _ledger(loaded_samples)
                               if row[0] == "ville-palaiseau")
    long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    with sqlite3.connect(loaded_samples / "warehouse" / "warehouse.sqlite") as db:
        db.execute("UPDATE ledger SET received_at = ? WHERE partner = ?", (long_ago, partner))
    page = client.get("/depots/", headers=_token(client))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    body = page.text
    first_row = body.split("<tbody>")[1].split("</tr>")[0]
    assert 'class="retard"' in first_row and "Ville de Palaiseau" in first_row
    assert "en retard de 108 j" in first_row  # 200 days, trimestriel = 92
    assert "1 partenaire en retard" in body
    assert body.count('class="retard"') == 1
    assert "<script" not in body and "http://" not in body and "https://" not in body
    assert f"fichiers/{partner}/{sha}" in first_row


def test_a_warehouse_at_an_unknown_version_says_what_to_do_instead_of_failing(
        client, loaded_samples):
    # Newer code migrated it (or make migrate was not run): the page explains, in French.
    from pipeline.load import warehouse

    # The version is checked once per process, when the engine is made: forget it.
    warehouse.engine().dispose()
    warehouse._engine_for.cache_clear()
    with sqlite3.connect(loaded_samples / "warehouse" / "warehouse.sqlite") as db:
        db.execute("UPDATE alembic_version SET version_num = '0042'")
    page = client.get("/depots/", headers=_token(client))
    assert page.status_code == 503
    assert "Entrepôt indisponible" in page.text and "inconnue de ce code" in page.text
    assert "<script" not in page.text


def test_a_file_validation_result_is_kept_and_shown(client, loaded_samples):
    partner, sha, name = _ledger(loaded_samples)[0]
    kept = results.load(loaded_samples, partner, sha)
    assert kept is not None and kept.evaluated > 0 and kept.success
    page = client.get(f"/depots/fichiers/{partner}/{sha}", headers=_token(client))
    assert page.status_code == 200
    assert f"Suite <code>{kept.dataset}</code>" in page.text
    assert f"{kept.evaluated} attentes évaluées" in page.text
    assert name in page.text or name.replace("'", "&#x27;") in page.text
    # A failing expectation, as a file's result would hold it, is named with its lines.
    failing = results.ValidationResult(
        kept.suite, kept.dataset, kept.evaluated, False,
        (results.FailedExpectation("expect_column_values_to_not_be_null", "date",
                                   "La colonne <date> doit être remplie.", "erreur", 4),))
    results.save(loaded_samples, partner, sha, failing)
    page = client.get(f"/depots/fichiers/{partner}/{sha}", headers=_token(client))
    assert "expect_column_values_to_not_be_null" in page.text
    assert "La colonne &lt;date&gt; doit être remplie." in page.text
    assert '<td class="n">4</td>' in page.text and "Suite en échec" in page.text


def test_a_missing_report_says_so_and_a_present_one_is_shown(client, loaded_samples):
    partner, _sha, name = next(row for row in _ledger(loaded_samples)
                               if row[0] == "ville-massy")
    report = loaded_samples / "inbox" / partner / f"{name}.rapport.txt"
    assert report.is_file()
    shown = client.get(f"/depots/rapports/{partner}/{report.name}", headers=_token(client))
    assert shown.status_code == 200 and "<pre>" in shown.text
    report.unlink()
    overview = client.get("/depots/", headers=_token(client))
    row = next(r for r in overview.text.split("<tr") if "Ville de Massy" in r)
    assert "rapport introuvable" in row and "rapports/" not in row
    gone = client.get(f"/depots/rapports/{partner}/{report.name}", headers=_token(client))
    assert gone.status_code == 200 and "rapport introuvable" in gone.text


@pytest.mark.parametrize("path", [
    "/depots/rapports/ville-massy/..%2F..%2Fwarehouse%2Fwarehouse.sqlite",
    "/depots/rapports/ville-massy/%2E%2E%2Fville-palaiseau%2Fx.rapport.txt",
    "/depots/rapports/ville-massy/..",
    "/depots/rapports/..%2Fwarehouse/warehouse.sqlite",
    "/depots/rapports/inconnu/x.rapport.txt",
    "/depots/rapports/ville-massy/ateliers.csv",
    "/depots/fichiers/ville-massy/..%2F..%2Fwarehouse",
])
def test_path_traversal_is_refused(client, path):
    answer = client.get(path, headers=_token(client))
    assert answer.status_code in (400, 404)
    assert "SQLite" not in answer.text and "<pre>" not in answer.text


API_SERVER_PROBE = """
import json
from airflow.api_fastapi.app import create_app
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi.testclient import TestClient

app = create_app("core")
with TestClient(app) as client:
    token = app.state.auth_manager.generate_jwt(SimpleAuthManagerUser(username="admin",
                                                                       role="admin"))
    signed_in = {"Authorization": "Bearer " + token}
    anonymous = client.get("/depots/")
    page = client.get("/depots/", headers=signed_in)
    plugins = client.get("/api/v2/plugins", headers=signed_in).json()["plugins"]
print(json.dumps({"anonymous": [anonymous.status_code, anonymous.text],
                  "page": [page.status_code, page.text],
                  "views": [v for p in plugins for v in p["external_views"]]}))
"""


@pytest.mark.airflow
def test_airflow_api_server_mounts_the_plugin_behind_its_login(airflow_db, loaded_samples):
    """The API server as ``make airflow`` starts it (create_app, plugins folder of the
    Makefile), in a process of its own: Airflow caches the plugins it loaded."""
    import json
    import os

    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
           "AIRFLOW__API_AUTH__JWT_SECRET": "secret-des-tests-de-depots-" * 3,
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE":
               str(loaded_samples / "mots-de-passe.json")}
    done = subprocess.run([sys.executable, "-c", API_SERVER_PROBE], capture_output=True,
                          text=True, timeout=300, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["anonymous"][0] == 401 and "Palaiseau" not in found["anonymous"][1]
    assert found["page"][0] == 200 and "Ville de Palaiseau" in found["page"][1]
    assert {"name": "Dépôts des partenaires", "href": "depots/"}.items() <= \
        found["views"][0].items()


@pytest.mark.airflow
def test_the_daily_dag_reminds_a_late_partner_once(dagbag, loaded_samples):
    """``relance_partenaires`` through Airflow (dag.test), twice on the same day."""
    with sqlite3.connect(loaded_samples / "warehouse" / "warehouse.sqlite") as db:
        db.execute("UPDATE ledger SET received_at = ? WHERE partner = 'ville-palaiseau'",
                   ((NOW - timedelta(days=100)).isoformat(),))
    dag = dagbag.get_dag("relance_partenaires")
    for minutes in (0, 5):
        assert dag.test(run_after=NOW + timedelta(minutes=minutes)).state == "success"
    alerts = list((loaded_samples / "alertes").glob("*.txt"))
    assert len(alerts) == 1
    assert "Ville de Palaiseau" in alerts[0].read_text(encoding="utf-8")


class _Mailbox:
    """A real SMTP server on 127.0.0.1 (the standard library's, in a thread) keeping what it
    receives: reminders go through smtplib exactly as in production."""

    def __init__(self) -> None:
        import asyncore
        import smtpd
        import threading
        import warnings

        self.received: list[tuple[list[str], str]] = []
        mailbox = self

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)

            class Server(smtpd.SMTPServer):
                def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
                    mailbox.received.append((rcpttos, data.decode("utf-8", "replace")))

            self.server = Server(("127.0.0.1", 0), None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


def test_a_late_partner_with_an_address_gets_one_e_mail_per_overdue_period(data_dir, tmp_path,
                                                                          monkeypatch):
    import email

    from pipeline.config import data_paths
    from pipeline.reminders import remind_late_partners

    text = DEFAULT_TERRITORY_FILE.read_text(encoding="utf-8").replace(
        'id = "operateur-pass"', 'id = "operateur-pass"\nemail = "pass@operateur.example.fr"', 1)
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    territory, paths = load_territory(path), data_paths()
    mailbox = _Mailbox()
    try:
        monkeypatch.setenv("INCLUSION_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("INCLUSION_SMTP_PORT", str(mailbox.port))
        monkeypatch.setenv("INCLUSION_SMTP_TO", "equipe@agglo.example.fr")
        entries = [_entry("operateur-pass", NOW - timedelta(days=8), original_name="pass.csv")]
        for days_later in (0, 1, 3):  # the same overdue period: one reminder only
            remind_late_partners(territory, paths, entries, NOW + timedelta(days=days_later))
        deadline = time.monotonic() + 10
        while len(mailbox.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        mailbox.close()
    to_partner = [m for rcpt, m in mailbox.received if rcpt == ["pass@operateur.example.fr"]]
    to_stewards = [m for rcpt, m in mailbox.received if rcpt == ["equipe@agglo.example.fr"]]
    assert len(to_partner) == 1 and len(to_stewards) >= 1
    body = email.message_from_string(to_partner[0]).get_payload(decode=True).decode("utf-8")
    assert "« pass.csv », a été reçu il y a 8 jours" in body
    assert "tous les 7 jours" in body and "dossier de dépôt « operateur-pass »" in body
    assert "pass numériques remis et utilisés" in body and "/partenaires/" in body


def test_a_partner_address_is_checked_when_the_territory_is_loaded(tmp_path):
    text = DEFAULT_TERRITORY_FILE.read_text(encoding="utf-8").replace(
        'id = "operateur-pass"', 'id = "operateur-pass"\nemail = "Jean <jean@x.fr>"', 1)
    path = tmp_path / "territory.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="operateur-pass.*email.*not an e-mail address"):
        load_territory(path)
