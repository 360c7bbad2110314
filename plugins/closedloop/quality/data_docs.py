"""Data Docs that open with no outside network.

Great Expectations' Data Docs load jQuery, Bootstrap, Vega and fonts from public CDNs; on a
machine without outside network the pages break, and users expect no outside calls anyway. After
each build this copies those assets (installed from npm into include/data_docs_assets by
`make data-docs-assets`) next to the docs and points every page at the local copies.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_ASSETS = (
    Path(__file__).resolve().parents[3] / "include" / "data_docs_assets" / "node_modules"
)

# CDN address (without version-dependent query strings) -> file under node_modules.
CDN_FILES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Font Awesome's stylesheet finds its fonts at ../webfonts relative to itself.
EXTRA_DIRECTORIES = {
    "@fortawesome/fontawesome-free/webfonts": "@fortawesome/fontawesome-free/webfonts"
}
LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/"
    r"logo-long\.png(\?[^\"']*)?"
)


SUBRESOURCE_ATTRIBUTES = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')


def assets_dir() -> Path:
    return Path(os.environ.get("CLOSEDLOOP_DATA_DOCS_ASSETS", DEFAULT_ASSETS))


def localize(docs: Path) -> int:
    """Copy the CDN assets into ``docs``/static/vendor and rewrite every page to use them.

    Returns the number of pages rewritten (0 when the assets are not installed).
    """
    source = assets_dir()
    if not source.exists():
        log.warning(
            "Data Docs assets are not installed (%s): run `make data-docs-assets`; the "
            "pages will try to load scripts from public CDNs",
            source,
        )
        return 0
    vendor = docs / "static" / "vendor"
    for relative in [*CDN_FILES.values(), *EXTRA_DIRECTORIES.values()]:
        target = vendor / relative
        if (source / relative).is_dir():
            shutil.copytree(source / relative, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
    pages = 0
    for page in docs.rglob("*.html"):
        depth = os.path.relpath(docs, page.parent)
        html = page.read_text()
        for url, relative in CDN_FILES.items():
            html = html.replace(f'"{url}"', f'"{depth}/static/vendor/{relative}"')
        html = LOGO.sub(f"{depth}/static/images/logo-long.png", html)
        # Integrity and CORS attributes were for the CDN copies; file:// pages refuse them.
        html = SUBRESOURCE_ATTRIBUTES.sub("", html)
        page.write_text(html)
        pages += 1
    return pages


def write_index(docs: Path, gate: str, run_id: str, summary: dict[str, int]) -> Path:
    """The docs folder's front page: each gate's latest run, linking to its GX Data Docs."""
    import html
    import json

    state_file = docs / "gates.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    state[gate] = {"run_id": run_id, **summary}
    state_file.write_text(json.dumps(state, indent=2))
    rows = "".join(
        f"<tr><td><a href='{html.escape(name)}/index.html'>{html.escape(name)}</a></td>"
        f"<td>{html.escape(str(info['run_id']))}</td><td>{info['expectations']}</td>"
        f"<td>{info['failed']}</td><td>{info['warned']}</td></tr>"
        for name, info in sorted(state.items())
    )
    index = docs / "index.html"
    index.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>closedloop data quality</title>"
        "</head><body><h1>closedloop data quality gates</h1><table border='1'><tr><th>gate</th>"
        "<th>latest run</th><th>expectations</th><th>failed</th><th>warned</th></tr>"
        f"{rows}</table></body></html>"
    )
    return index
