"""Great Expectations Data Docs for stewards, built into the data folder and readable offline.

The Data Docs show every dataset's suite as GX renders it. GX's pages load jQuery, Bootstrap
and fonts from CDNs; this project never sends a request elsewhere, so those tags are removed
and a small local stylesheet keeps the pages readable without them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib.metadata import version
from pathlib import Path

from pipeline.check.suites import EXPECTATIONS_DIR
from pipeline.config import DataPaths, data_paths
from pipeline.files import replace_file

# Tags that would make the browser fetch something from elsewhere (plain links stay).
EXTERNAL_TAG = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"https?://[^\"]*\"[^>]*>(?:\s*</script>)?",
    re.IGNORECASE)
LOCAL_STYLE = ("<style>body{font-family:system-ui,sans-serif;margin:1rem 2rem;line-height:1.5}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}"
               "</style>")


def offline(html: str) -> str:
    html = EXTERNAL_TAG.sub("", html)
    return html.replace("</head>", LOCAL_STYLE + "</head>", 1)


def build_data_docs(paths: DataPaths | None = None) -> Path:
    """The Data Docs of the suites under ``expectations/``; rebuilt only when a suite or GX's
    version changed (they show the rules, not the data), so a publication after a new file
    does not import GX for nothing."""
    paths = paths or data_paths()
    project = paths.root / "gx"
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    stamp, fingerprint = site.parent / "suites.sha1", _suites_fingerprint()
    if (site / "index.html").is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        return site / "index.html"
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    context = gx.get_context(mode="file", project_root_dir=str(project))
    for suite_file in sorted(EXPECTATIONS_DIR.glob("*.json")):
        context.suites.add_or_update(ExpectationSuite(**json.loads(suite_file.read_text())))
    context.build_data_docs()
    for page in site.rglob("*.html"):
        page.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
    replace_file(stamp, fingerprint.encode("utf-8"))
    return site / "index.html"


def _suites_fingerprint() -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(version("great_expectations").encode())
    digest.update(Path(__file__).read_bytes())  # how the pages are made offline
    for suite_file in sorted(EXPECTATIONS_DIR.glob("*.json")):
        digest.update(suite_file.name.encode() + b"\0" + suite_file.read_bytes())
    return digest.hexdigest()
