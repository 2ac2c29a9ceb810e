"""Pelican settings for the public site.

The build is driven by ``publish.site``, which overrides ``OUTPUT_PATH`` (a fresh folder per
build) and passes the computed site data as ``INCLUSION_SITE``; the ``data_pages`` plugin turns
that data into pages. Hand-written pages live in ``site/content/pages`` as Markdown.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so that ``pages`` imports when pelican runs from elsewhere

from pages import formatting, mailto  # noqa: E402

SITENAME = "Numérique pour tous"
SITEURL = ""
RELATIVE_URLS = False
PATH = str(HERE / "site" / "content")
THEME = str(HERE / "site" / "theme")
OUTPUT_PATH = str(HERE / "data" / "site" / "manual-build")
DELETE_OUTPUT_DIRECTORY = True

TIMEZONE = "Europe/Paris"  # for a manual run; pipeline.publish sets the territory's
DEFAULT_LANG = "fr"
DEFAULT_DATE = "fs"

# Only hand-written pages and data pages: no blog, feeds, authors, categories or tags.
ARTICLE_PATHS = []
PAGE_PATHS = ["pages"]
STATIC_PATHS = []
DIRECT_TEMPLATES = []
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
ARTICLE_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None

PLUGIN_PATHS = [str(HERE / "site" / "plugins")]
PLUGINS = ["data_pages", "results_pages"]

# Partner text reaches templates: escape everything unless a template says otherwise.
# auto_reload off: templates do not change during a build, and Jinja would otherwise look at
# every extended, imported or included template's file time on every page.
JINJA_ENVIRONMENT = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True,
                     "auto_reload": False}
JINJA_FILTERS = {
    "nombre": formatting.number,
    "pourcent": formatting.percent,
    "date_longue": formatting.long_date,
    "date_courte": formatting.short_date,
    "heure": formatting.clock,
    "duree": formatting.duration,
    "options_communes": formatting.commune_options,
    # A venue page's mailto links, made only for the pages rendered (not for every venue of
    # every build: percent-encoding 30,000 messages twice took seconds in each process).
    "lien_partage": mailto.share_link,
    "lien_signalement": mailto.report_link,
}

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {},
    },
    "output_format": "html5",
}

# Filled by publish.site for each build.
INCLUSION_SITE = None
# Filled by publish.site: yearly results, methodology and open data (transforms.results).
INCLUSION_RESULTS = None
