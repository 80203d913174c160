"""``make docs`` writes pages that open without the internet (issue 13): no generated
page references a script, style sheet, font or image on another host, and the Great
Expectations and dbt pages show their content in headless Chromium with the network
switched off, instead of an empty, unstyled page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from next_steps import nightly
from next_steps.config import Settings
from next_steps.publish.docs import NotOffline, build_docs, localize_data_docs

from conftest import account, order, write_export

NIGHT = date(2025, 6, 30)
SUITES = ("accounts", "orders", "order_lines")
FETCHING_TAGS = {"script", "link", "img", "iframe", "source", "video", "audio", "embed", "object"}
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+(?:url\()?\s*["']?([^"')\s;]+)""")

# the tests on generated sites are slow (dbt docs generate: half a minute)
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    """Both sites for one validated night, one of whose files has rejected rows (so the
    pages show failed expectations too); no warehouse, so dbt's catalog is empty."""
    data = tmp_path_factory.mktemp("docs") / "data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEXT_STEPS_DATA_DIR", str(data))
        for name in ("LANDING_DIR", "WAREHOUSE", "OUTREACH_DIR", "QUARANTINE_DIR", "RUNS_DIR"):
            env.delenv(f"NEXT_STEPS_{name}", raising=False)
        settings = replace(Settings.from_env(), max_quarantine_share=1.0)
        write_export(
            settings.export_folder(NIGHT),
            [account("A1"), account("A2", sponsor_id="A1")],
            [
                order("O1", "A1", "2025-06-01T10:00:00Z"),
                order("O2", "A2", "2025-06-02T10:00:00Z", order_total="-5.00"),
            ],
            [
                {
                    "order_id": "O1",
                    "line_number": "1",
                    "sku": "S1",
                    "quantity": "2",
                    "unit_price": "25.00",
                }
            ],
        )
        nightly.validate_export(NIGHT, settings)
        build_docs(settings, data / "docs")
    return data / "docs"


class _Resources(HTMLParser):
    """What a browser fetches to show a page: ``src``, ``href``, ``srcset`` and ``data``
    of script, link, img, iframe and the media tags, ``url()`` and ``@import`` in
    ``<style>`` and ``style=``.  Hyperlinks (``<a href>``) are not resources."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        self._style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self._css(value)
            elif tag in FETCHING_TAGS and name in ("src", "href", "data"):
                self.urls.append(value.strip())
            elif tag in FETCHING_TAGS and name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if self._style:
            self._css(data)

    def _css(self, text):
        self.urls += [a or b for a, b in CSS_URL.findall(text)]


def _resources(page: Path) -> list[str]:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def _remote(url: str) -> bool:
    return bool(re.match(r"(?i)^(https?:)?//", url))


@slow
def test_no_generated_page_references_a_resource_on_another_host(docs):
    pages = sorted(docs.rglob("*.html"))
    names = {p.relative_to(docs).as_posix() for p in pages}
    assert {"dbt/index.html", "great_expectations/index.html"} <= names
    for suite in SUITES:
        assert f"great_expectations/expectations/{suite}.html" in names
        assert any(n.startswith(f"great_expectations/validations/{suite}/") for n in names)
    remote = {
        page.relative_to(docs).as_posix(): sorted({u for u in _resources(page) if _remote(u)})
        for page in pages
    }
    assert {page: urls for page, urls in remote.items() if urls} == {}
    # nor do the style sheets those pages load (Font Awesome's fonts, Bootstrap's images)
    sheets = {p: CSS_URL.findall(p.read_text(encoding="utf-8")) for p in docs.rglob("*.css")}
    assert {
        p.name: urls for p, urls in sheets.items() if any(_remote(a or b) for a, b in urls)
    } == {}


@slow
def test_every_local_resource_a_data_docs_page_references_exists(docs):
    site = docs / "great_expectations"
    missing = []
    for page in [*site.rglob("*.html"), *site.rglob("*.css")]:
        refs = (
            _resources(page)
            if page.suffix == ".html"
            else [a or b for a, b in CSS_URL.findall(page.read_text())]
        )
        for url in refs:
            path = unquote(urlsplit(url).path)
            if _remote(url) or url.startswith(("data:", "#")) or not path:
                continue
            if not (page.parent / path).resolve().is_file():
                missing.append(f"{page.relative_to(site)}: {url}")
    assert missing == []


# Resource loads that fail (a script, style sheet, image or font not there) and script
# errors, collected from the first line of every page.
COLLECT_ERRORS = """
window.__failed = [];
window.addEventListener('error', function (event) {
  var target = event.target || {};
  window.__failed.push(target.src || target.href || String(event.message));
}, true);
"""


@pytest.fixture(scope="module")
def offline(browser):
    """The shared browser with the network switched off and failures collected."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})
    script = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": COLLECT_ERRORS}
    )
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        browser.execute_cdp_cmd("Network.disable", {})


def _open(browser, page: Path):
    browser.get(page.as_uri())
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )
    browser.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1])")


def _styled_by_bootstrap(browser) -> bool:
    """Bootstrap's style sheet is applied: its navbar is a flex box (a plain <nav> is a
    block)."""
    return browser.execute_script(
        "const nav = document.querySelector('nav.navbar');"
        "return !!nav && getComputedStyle(nav).display === 'flex';"
    )


def _icons_drawn(browser, selector: str) -> int:
    """How many Font Awesome icons matching ``selector`` are drawn with its font."""
    return browser.execute_script(
        "const icons = [...document.querySelectorAll(arguments[0])];"
        "const font = '900 16px \"Font Awesome 6 Free\"';"
        "return icons.filter(i => getComputedStyle(i, '::before').fontFamily.includes("
        "'Font Awesome 6 Free') && getComputedStyle(i, '::before').content !== 'none'"
        " && i.getBoundingClientRect().width > 0 && document.fonts.check(font)).length;",
        selector,
    )


@slow
def test_the_data_docs_index_shows_every_validation_result_offline(offline, docs):
    _open(offline, docs / "great_expectations/index.html")
    table = "#section-1-content-block-2-1-body-table"
    # bootstrap-table (jQuery) draws the rows from the page's data: no script, no rows
    rows = offline.find_elements(By.CSS_SELECTOR, f"{table} tbody tr.clickable-row")
    assert len(rows) == len(SUITES)
    assert all(row.is_displayed() for row in rows)
    text = offline.find_element(By.CSS_SELECTOR, table).text
    for suite in SUITES:
        assert f"{suite}.csv" in text
    assert "night 2025-06-30" in text
    assert _styled_by_bootstrap(offline)
    # orders.csv had a rejected row: its row shows the failure icon, the others success
    assert _icons_drawn(offline, f"{table} i.ge-failed-icon") == 1
    assert _icons_drawn(offline, f"{table} i.ge-success-icon") == len(SUITES) - 1
    # the Bootstrap tabs work: the suites' tab shows their table
    offline.find_element(By.ID, "Expectation-Suites-tab").click()
    WebDriverWait(offline, 5).until(
        lambda b: b.find_element(By.ID, "Expectation-Suites").is_displayed()
    )
    suites = offline.find_element(By.ID, "Expectation-Suites").text
    assert all(suite in suites for suite in SUITES)
    assert offline.execute_script("return window.__failed") == []


@slow
def test_every_data_docs_page_opens_offline_with_its_content(offline, docs):
    site = docs / "great_expectations"
    pages = sorted(site.glob("expectations/*.html")) + sorted(site.glob("validations/**/*.html"))
    assert len(pages) == 2 * len(SUITES)
    for page in pages:
        _open(offline, page)
        name = page.relative_to(site).as_posix()
        assert offline.execute_script("return window.__failed") == [], name
        assert _styled_by_bootstrap(offline), name
        logo = offline.find_element(By.CSS_SELECTOR, "nav.navbar img")
        assert offline.execute_script("return arguments[0].naturalWidth", logo) > 0, name
        # the expectations, as tables bootstrap-table has drawn
        assert offline.find_elements(By.CSS_SELECTOR, ".bootstrap-table table tbody tr"), name
        if name.startswith("validations/"):
            assert _icons_drawn(offline, "td i.fas") > 0, name


@slow
def test_the_dbt_docs_open_offline_with_a_model_and_its_columns(offline, docs):
    browser = offline
    browser.get((docs / "dbt/index.html").as_uri() + "#!/model/model.next_steps.segment_summary")
    # the page is one Angular application: nothing shows unless its scripts ran
    WebDriverWait(browser, 30).until(
        lambda b: "average_order_value" in b.find_element(By.TAG_NAME, "body").text
    )
    assert "segment_summary" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.execute_script("return window.__failed") == []


GX_HEAD = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<link rel="shortcut icon" href="../../static/images/favicon.ico" type="image/x-icon"/>
</head><body><a href="https://greatexpectations.io">GX</a>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=2"/>
{body}</body></html>"""


def _site(tmp_path: Path, body: str = "") -> Path:
    page = tmp_path / "site/validations/orders/orders.csv.html"
    page.parent.mkdir(parents=True)
    page.write_text(GX_HEAD.format(body=body), encoding="utf-8")
    return page


def test_data_docs_pages_are_pointed_at_the_local_copies(tmp_path):
    page = _site(tmp_path)
    localize_data_docs(tmp_path / "site")
    html = page.read_text(encoding="utf-8")
    assert 'href="../../static/vendor/bootstrap-4.3.1/css/bootstrap.min.css"' in html
    # no integrity or CORS mode: a file: page cannot load a local script in CORS mode
    assert '<script src="../../static/vendor/bootstrap-4.3.1/js/bootstrap.min.js"></script>' in html
    assert "vega" not in html
    assert 'src="../../static/images/logo-long.png"' in html
    assert 'href="../../static/images/favicon.ico"' in html
    assert '<a href="https://greatexpectations.io">' in html  # hyperlinks stay
    assert (tmp_path / "site/static/vendor/bootstrap-4.3.1/js/bootstrap.min.js").is_file()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('<script src="https://unpkg.com/new-widget@2/widget.js"></script>', "new-widget"),
        ('<div style="background: url(//cdn.example.org/x.png)"></div>', "cdn.example.org"),
        ("<script>vegaEmbed('#chart', spec);</script>", "Vega"),
    ],
)
def test_a_page_that_would_still_need_the_network_fails_make_docs(tmp_path, body, named):
    """After a Great Expectations upgrade that loads something new, or a page with a
    chart: ``make docs`` says so instead of writing a page that opens empty offline."""
    _site(tmp_path, body)
    with pytest.raises(NotOffline, match=named):
        localize_data_docs(tmp_path / "site")
