"""``make docs``: dbt's documentation and Great Expectations' data docs, as files.

- **dbt** (``<docs>/dbt/index.html``): every model, column, test and seed with its
  description, the lineage graph, and the outreach files and the night's report as
  exposures with their consumers.  Built with ``dbt docs generate --static``: one HTML
  file with everything inside, which opens from a file share.  The catalog (column
  types, row counts) is read from a copy of the published warehouse, so a BI tool or a
  night reading or writing it is never in the way; without a warehouse the catalog is
  empty and the descriptions are still there.
- **Great Expectations** (``<docs>/great_expectations/index.html``): the suites, and the
  validation result of every night in ``runs/`` (the sample that Great Expectations
  itself checks each night, next to the SQL over every row).  The results hold counts,
  never values: ``next_steps.ingest.validation`` drops them before saving.

**Every page opens offline.**  Great Expectations' templates load Bootstrap, jQuery,
bootstrap-table, Font Awesome and more from public CDNs, and its logo from its own
bucket: without the internet its pages were empty (the index's tables are drawn by
bootstrap-table) and unstyled.  Copies of exactly those files (same versions; the two
with an ``integrity`` hash in GX's templates match it) are kept in ``docs_assets/``
(``docs_assets/README.md`` says where each comes from, with its licence); the site gets
them in ``static/vendor/`` and every page's references are rewritten to them
(:data:`GX_CDN_COPIES`).  Both sites are then checked: a page that still references a
script, style sheet, font or image on another host fails ``make docs``, so a Great
Expectations upgrade that adds one cannot slip through.  dbt's static page carries its
scripts and styles inline; it is generated without usage tracking, which would load a
script from dbt Labs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

from next_steps.config import Settings
from next_steps.ingest.contract import EXPORT_FILES
from next_steps.publish import retention

log = logging.getLogger(__name__)

#: Local copies of what Great Expectations' pages load from the network.
ASSETS_DIR = Path(__file__).with_name("docs_assets")
#: Where the copies go in the Great Expectations site.
SITE_ASSETS = "static/vendor"

#: What Great Expectations 1.24's data docs load from CDNs (``render/view/templates``:
#: ``page.j2``, ``index_page.j2``, ``js_script_imports.j2``), and the file in
#: ``docs_assets/`` each is replaced with.  The two filter-control style sheets are
#: requested at 1.19.0 beside bootstrap-table 1.19.1; they differ only in the version
#: comment, so 1.19.1's serve.  The dark theme is the minified file of the same release.
GX_CDN_COPIES = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/js/bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/umd/popper.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "bootstrap-dark-1.1.0/css/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
}
#: Vega draws Great Expectations' charts (histograms of profiled columns).  Every page
#: loads it, none of ours draws one (the results keep counts, not values), so the tags
#: are left out; a page that does call it fails ``make docs`` instead of opening without
#: its chart.
GX_CHART_SCRIPTS = frozenset(
    {
        "https://cdn.jsdelivr.net/npm/vega@5",
        "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "https://cdn.jsdelivr.net/npm/vega-embed@6",
    }
)
#: The logo, from Great Expectations' bucket with a per-build query string
#: (``top_navbar.j2``; the dark theme's in ``data_docs_default_styles.css``).  The site's
#: own ``static/images/logo-long.png`` is the same picture; there is no local dark one.
_GX_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:logo-long|full_logo_dark)\.png(?:\?[^\"'()\s]*)?"
)
#: ``favicon.j2`` climbs one folder too few on validation pages.
_GX_FAVICON = re.compile(r"(?:\.\./)*static/images/favicon\.ico")
_SCRIPT_OR_LINK = re.compile(
    r"<script\b(?P<script>[^>]*)>\s*</script>|<link\b(?P<link>[^>]*?)\s*/?>", re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""\s+([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""", re.IGNORECASE)


class NotOffline(RuntimeError):
    """A generated page references a resource on another host."""


class _ResourceReferences(HTMLParser):
    """Every URL a browser would fetch to show the page: ``src``/``href``/``srcset``/...
    of any element but a hyperlink, and ``url()``/``@import`` in style sheets."""

    ATTRIBUTES = frozenset({"src", "href", "srcset", "poster", "data", "background"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self._css(value)
            elif name in self.ATTRIBUTES and not (tag == "a" and name == "href"):
                if name == "srcset":
                    self.references += [part.split()[0] for part in value.split(",") if part]
                else:
                    self.references.append(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text: str) -> None:
        self.references += [a or b for a, b in _CSS_URL.findall(text)]


def external_resources(text: str, css: bool = False) -> list[str]:
    """The resources a page (or, with ``css``, a style sheet) would load from another
    host; hyperlinks are not resources."""
    if css:
        references = [a or b for a, b in _CSS_URL.findall(text)]
    else:
        parser = _ResourceReferences()
        parser.feed(text)
        parser.close()
        references = parser.references
    return [url for url in references if _EXTERNAL.match(url)]


def check_offline(files) -> None:
    """Raise :class:`NotOffline` naming every page or style sheet that needs the network."""
    problems = []
    for path in map(Path, files):
        urls = external_resources(path.read_text(encoding="utf-8"), css=path.suffix == ".css")
        if urls:
            problems.append(f"{path}: {', '.join(sorted(set(urls)))}")
    if problems:
        raise NotOffline("pages that need the network to open: " + "; ".join(problems))


def build_docs(settings: Settings, out_dir: Path) -> dict[str, Path]:
    """Write both sites under ``out_dir``; return their index pages."""
    return {
        "dbt": build_dbt_docs(settings, out_dir / "dbt"),
        "great_expectations": build_data_docs(settings, out_dir / "great_expectations"),
    }


def _latest_night(settings: Settings) -> date | None:
    nights = [
        date.fromisoformat(folder.name)
        for folder in settings.runs_dir.glob("????-??-??")
        if folder.is_dir()
    ]
    return max(nights, default=None)


def _empty_scratch_arguments(docs_arguments: list[str]) -> list[str]:
    """``dbt run --empty`` of the intermediate tables (macro ``generate_database_name``),
    with the docs build's project, profile, folders and vars."""
    return [
        "run",
        "--empty",
        "--select",
        "path:models/intermediate,config.materialized:table",
        *docs_arguments[docs_arguments.index("--project-dir") :],
    ]


def build_dbt_docs(settings: Settings, out_dir: Path) -> Path:
    from next_steps.build.dbt_build import invoke_dbt
    from next_steps.errors import NightFailed

    night = _latest_night(settings) or datetime.now(UTC).date()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="next_steps_docs_") as scratch:
        warehouse = Path(scratch) / "warehouse.duckdb"
        arguments = [
            "docs",
            "generate",
            "--static",
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.dbt_project_dir),
            "--target-path",
            str(out_dir),
            "--log-path",
            scratch,
            "--vars",
            json.dumps({"as_of_date": night.isoformat()}),
            "--no-use-colors",
            # the page would load dbt Labs' tracking script when it opens
            "--no-send-anonymous-usage-stats",
        ]
        if settings.warehouse.exists():
            shutil.copyfile(settings.warehouse, warehouse)
            # the tables a night rebuilds whole live in its scratch database, removed
            # after the build: build them empty (columns, no rows) for the catalog
            empty = invoke_dbt(warehouse, _empty_scratch_arguments(arguments))
            if not empty.success:
                raise NightFailed(
                    "dbt run --empty of the scratch tables for the docs failed: "
                    f"{empty.exception or 'see the dbt log'}"
                )
        else:
            arguments.append("--empty-catalog")
        outcome = invoke_dbt(warehouse, arguments)
    if not outcome.success:
        raise NightFailed(f"dbt docs generate failed: {outcome.exception or 'see the dbt log'}")
    # the one self-contained page is the site; the rest of the target folder is dbt's
    index = out_dir / "index.html"
    os.replace(out_dir / "static_index.html", index)
    check_offline([index])
    log.info("dbt docs: %s", index)
    return index


def _validation_results(settings: Settings):
    """(night, file name, saved result) of every night's validation, oldest first."""
    for folder in sorted(settings.runs_dir.glob("????-??-??/validation")):
        night = date.fromisoformat(folder.parent.name)
        for spec in EXPORT_FILES:
            # gzipped once a later night was published
            text = retention.read_run_file(folder / f"{spec.name}.json")
            if text is not None:
                saved = json.loads(text)
                yield night, saved["file"], saved["great_expectations_sample"]["result"]


def build_data_docs(settings: Settings, out_dir: Path) -> Path:
    """Great Expectations' data docs of the suites and every night's sample result."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if out_dir.exists():
        shutil.rmtree(out_dir)
    with tempfile.TemporaryDirectory(prefix="next_steps_gx_") as scratch:
        context = gx.get_context(mode="file", project_root_dir=scratch)
        for spec in EXPORT_FILES:
            suite = json.loads((settings.expectations_dir / f"{spec.name}.json").read_text())
            context.suites.add(gx.ExpectationSuite(**suite))
        schema = ExpectationSuiteValidationResultSchema()
        results = 0
        for night, file_name, saved in _validation_results(settings):
            result = schema.load(saved)
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
                run_id=RunIdentifier(
                    run_name=f"night {night.isoformat()}",
                    run_time=datetime(night.year, night.month, night.day, tzinfo=UTC),
                ),
                batch_identifier=file_name,
            )
            context.validation_results_store.set(key, result)
            results += 1
        context.build_data_docs()
        site = Path(scratch) / "gx" / "uncommitted" / "data_docs" / "local_site"
        shutil.copytree(site, out_dir)
    localize_data_docs(out_dir)
    log.info("Great Expectations data docs: %d validation result(s)", results)
    return out_dir / "index.html"


def _localize_tag(match: re.Match, to_root: str) -> str:
    attributes = match.group("script")
    kind = "script" if attributes is not None else "link"
    attributes = attributes if attributes is not None else match.group("link")
    pairs = [
        (name.lower(), next((v for v in values if v), "") if any(values) else None)
        for name, *values in _ATTRIBUTE.findall(attributes)
    ]
    url = dict(pairs).get("src" if kind == "script" else "href")
    if url in GX_CHART_SCRIPTS:
        return ""
    if url not in GX_CDN_COPIES:
        return match.group(0)  # local already, or unknown: check_offline names the latter
    local = f"{to_root}{SITE_ASSETS}/{GX_CDN_COPIES[url]}"
    kept = []
    for name, value in pairs:
        # a file: page has an opaque origin: a CORS-mode (crossorigin) load of a local
        # file fails, and the integrity hash was checked when the copy was made
        if name in ("integrity", "crossorigin"):
            continue
        if name in ("src", "href"):
            value = local
        kept.append(name if value is None else f'{name}="{value}"')
    tag = f"<{kind} {' '.join(kept)}>"
    return f"{tag}</script>" if kind == "script" else tag


def localize_data_docs(site: Path) -> None:
    """Point every page of a Great Expectations site at local copies of what it loads
    from the network (:data:`GX_CDN_COPIES`, the logo), put those copies into the site,
    and check that neither a page nor a style sheet needs the network any more."""
    shutil.copytree(ASSETS_DIR, site / SITE_ASSETS)
    files = sorted([*site.rglob("*.html"), *site.rglob("*.css")])
    for path in files:
        to_root = "../" * (len(path.relative_to(site).parts) - 1)
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            text = _SCRIPT_OR_LINK.sub(lambda m, r=to_root: _localize_tag(m, r), text)
            text = _GX_FAVICON.sub(f"{to_root}static/images/favicon.ico", text)
            if "vegaEmbed" in text:
                raise NotOffline(f"{path}: draws a chart with Vega, which has no local copy")
        # the logo, in a page's navbar and in the dark theme's rules (also in the copy of
        # the style sheet that GX puts into static/styles beside the one in every page)
        text = _GX_LOGO.sub(f"{to_root}static/images/logo-long.png", text)
        path.write_text(text, encoding="utf-8")
    check_offline(files)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings.from_env()
    for name, index in build_docs(settings, settings.data_dir / "docs").items():
        print(f"{name}: {index}")  # noqa: T201 - the command's report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
