"""Great Expectations Data Docs for stewards, built into the data folder and readable offline.

The Data Docs show every dataset's suite as GX renders it. GX's pages load jQuery, Bootstrap
and fonts from CDNs; this project never sends a request elsewhere, so those tags are removed
and a small local stylesheet keeps the pages readable without them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.check.suites import EXPECTATIONS_DIR
from pipeline.config import DataPaths, data_paths

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
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    paths = paths or data_paths()
    project = paths.root / "gx"
    context = gx.get_context(mode="file", project_root_dir=str(project))
    for suite_file in sorted(EXPECTATIONS_DIR.glob("*.json")):
        context.suites.add_or_update(ExpectationSuite(**json.loads(suite_file.read_text())))
    context.build_data_docs()
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    for page in site.rglob("*.html"):
        page.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
    return site / "index.html"
