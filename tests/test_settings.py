"""Every INCLUSION_* setting is in pipeline/settings.py, read at call time, and documented in
docs/settings.md; the time zone comes from the territory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO
from pipeline import settings

NAME = re.compile(r"INCLUSION_[A-Z_]+")
# Production code, the Makefile, the DAGs and the README: every name there must be documented.
SOURCES = ("pipeline", "transforms", "site", "dags", "bench", "pelican.conf.py", "Makefile",
           "README.md")
TEXT_SUFFIXES = {".py", ".html", ".md", ".toml", ".j2", ""}
# An INCLUSION_* variable read without pipeline.settings (writes, e.g. os.environ[...] = ..., are fine).
DIRECT_READ = re.compile(r"""os\.(environ\.get|getenv)\(\s*["']INCLUSION_"""
                         r"""|os\.environ\[["']INCLUSION_[A-Z_]+["']\](?!\s*=[^=])""")


def production_files() -> list[Path]:
    files = []
    for name in SOURCES:
        path = REPO / name
        files += [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
            and "__pycache__" not in p.parts)
    return files


def undocumented(text: str) -> set[str]:
    return set(NAME.findall(text)) - set(settings.SETTINGS) - set(settings.PELICAN_SETTINGS)


def test_docs_settings_md_is_generated_from_the_table():
    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings.markdown(), "docs/settings.md is stale: run `make settings-doc`"


def test_every_inclusion_name_in_the_code_is_in_the_table():
    missing = {f"{name} ({path.relative_to(REPO)})" for path in production_files()
               for name in undocumented(path.read_text(encoding="utf-8", errors="replace"))}
    assert not missing, "add these to pipeline/settings.py, then `make settings-doc`: " + \
        ", ".join(sorted(missing))


def test_the_checks_catch_an_undocumented_name_and_a_stale_doc(monkeypatch):
    assert undocumented('X = os.environ.get("INCLUSION_NOT_A_SETTING")') == {
        "INCLUSION_NOT_A_SETTING"}
    assert undocumented('settings.get("INCLUSION_BATCH_MB")') == set()
    extra = settings.Setting("INCLUSION_NEW", "int", "1", "A new knob.", "nobody")
    monkeypatch.setitem(settings.SETTINGS, extra.name, extra)
    assert settings.markdown() != (REPO / "docs" / "settings.md").read_text(encoding="utf-8")


def test_production_code_reads_settings_only_through_the_settings_module():
    offenders = [f"{path.relative_to(REPO)}:{number}" for path in production_files()
                 if path.suffix == ".py" and path != REPO / "pipeline" / "settings.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if DIRECT_READ.search(line)]
    assert not offenders
    assert DIRECT_READ.search('x = os.environ["INCLUSION_DATA"]')
    assert not DIRECT_READ.search('os.environ["INCLUSION_DATA"] = folder')


def test_settings_are_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("INCLUSION_BATCH_FILES", "8")
    assert settings.get("INCLUSION_BATCH_FILES") == 8
    monkeypatch.delenv("INCLUSION_BATCH_FILES")
    assert settings.get("INCLUSION_BATCH_FILES") == 120
    monkeypatch.setenv("INCLUSION_ALLOW_PAGE_DROP", "yes")
    assert settings.get("INCLUSION_ALLOW_PAGE_DROP") is False  # only "1" allows it, as before
    monkeypatch.setenv("INCLUSION_ALLOW_PAGE_DROP", "1")
    assert settings.get("INCLUSION_ALLOW_PAGE_DROP") is True


@pytest.mark.parametrize("name", sorted(settings.SETTINGS))
def test_every_default_parses_to_its_type(monkeypatch, name):
    monkeypatch.delenv(name, raising=False)
    setting, value = settings.SETTINGS[name], settings.get(name)
    expected = {"int": int, "float": float, "path": Path, "str": str, "flag": bool}[setting.type]
    assert value is None if setting.default is None and setting.type != "flag" else \
        isinstance(value, expected)


def test_path_defaults_are_in_the_repository(monkeypatch):
    monkeypatch.delenv("INCLUSION_DATA", raising=False)
    monkeypatch.delenv("INCLUSION_TERRITORY", raising=False)
    assert settings.get("INCLUSION_DATA") == REPO / "data"
    assert settings.get("INCLUSION_TERRITORY") == REPO / "territory.toml"


# --- time zone ---------------------------------------------------------------------------------

def _territory_timezone() -> str:
    from pipeline.config import DEFAULT_TERRITORY_FILE, load_territory

    return load_territory(DEFAULT_TERRITORY_FILE).timezone


def test_dag_and_makefile_time_zones_are_the_territory_s():
    import _shared  # dags/_shared.py (conftest puts dags/ on sys.path)

    zone = _territory_timezone()
    assert _shared.TIMEZONE == zone
    assert str(_shared.START.tz.name) == zone
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"AIRFLOW__CORE__DEFAULT_TIMEZONE := (\S+)", makefile)[1] == zone


def test_no_other_hard_coded_time_zone_in_production_code():
    # The territory's default, and the written-out copies that cannot read the territory.
    allowed = {"pipeline/config.py", "dags/_shared.py", "pelican.conf.py", "Makefile",
               "README.md"}
    found = {str(path.relative_to(REPO)) for path in production_files()
             if "Europe/Paris" in path.read_text(encoding="utf-8", errors="replace")}
    assert found <= allowed, sorted(found - allowed)
