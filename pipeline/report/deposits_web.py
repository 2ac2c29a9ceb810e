"""The « Dépôts des partenaires » pages as a FastAPI application, for the Airflow plugin
``plugins/partner_deposits.py`` that mounts it in the API server under ``/depots``.

The caller hands in ``guard``, the dependency that authenticates and authorises every request
(the plugin passes Airflow's own, so the pages follow Airflow's login and permissions): this
module never imports Airflow and every route sits behind it. Every Airflow process loads the
plugins (scheduler, DAG processor, task runners): the ledger, the warehouse and pandas behind
them are imported by the routes, when a page is asked for, not when the plugin is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from pipeline.config import data_paths, load_territory
from pipeline.load.migrate import WarehouseVersionError

# Pages shown inside the Airflow UI's frame: nothing loaded from elsewhere, no script.
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "frame-ancestors 'self'",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def build_app(guard: Callable, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
              ) -> FastAPI:
    """The pages, every one behind ``guard`` (a FastAPI dependency that raises to refuse)."""
    app = FastAPI(title="Dépôts des partenaires", dependencies=[Depends(guard)],
                  docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(WarehouseVersionError)
    def warehouse_not_ready(_request, error: WarehouseVersionError) -> HTMLResponse:
        # The steward sees what to do (make migrate…) rather than a bare server error.
        return _html(f"<!DOCTYPE html><html lang=\"fr\"><meta charset=\"utf-8\">"
                     f"<title>Entrepôt indisponible</title><h1>Entrepôt indisponible</h1>"
                     f"<p>{escape(str(error))}</p></html>", 503)

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        from pipeline.load import ledger
        from pipeline.report import deposits

        territory, paths = load_territory(), data_paths()
        now = clock()
        found = deposits.partner_deposits(territory, ledger.entries(), now)
        return _html(deposits.overview_page(found, territory, paths, now))

    @app.get("/partenaires/{partner_id}", response_class=HTMLResponse)
    def partner_files(partner_id: str) -> HTMLResponse:
        from pipeline.load import ledger
        from pipeline.report import deposits

        territory = load_territory()
        try:
            partner = territory.partner(partner_id)
        except KeyError:
            return _html(deposits.not_found_page("Partenaire inconnu."), 404)
        return _html(deposits.partner_page(partner, ledger.entries(), territory, data_paths()))

    @app.get("/fichiers/{partner_id}/{sha256}", response_class=HTMLResponse)
    def validation(partner_id: str, sha256: str) -> HTMLResponse:
        from pipeline.check import results
        from pipeline.load import ledger
        from pipeline.report import deposits

        entry = ledger.find(partner_id, sha256)
        if entry is None:
            return _html(deposits.not_found_page("Aucun fichier de ce partenaire avec cette "
                                                 "empreinte dans le registre."), 404)
        result = results.load(data_paths().root, partner_id, sha256)
        return _html(deposits.validation_page(entry, result, load_territory()))

    @app.get("/rapports/{partner_id}/{name}", response_class=HTMLResponse)
    def report(partner_id: str, name: str) -> HTMLResponse:
        from pipeline.report import deposits

        territory = load_territory()
        path = deposits.report_file(data_paths(), territory, partner_id, name)
        if path is None:
            return _html(deposits.not_found_page("Ce nom n'est pas celui d'un rapport du "
                                                 "dossier de dépôt d'un partenaire."), 404)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # gone, or not a file
            text = None
        return _html(deposits.report_page(territory.partner(partner_id), name, text))

    return app
