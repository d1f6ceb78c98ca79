"""Every reader page type validates in the Nu HTML Checker (vnu), with no errors.

One JVM for all pages (vnu takes several files): about 3 s however many page types.
vnu comes from npm (``npm install -g vnu-jar``) and needs Java; the test finds the jar at
``$VNU_JAR``, ``node_modules/vnu-jar`` in the project, or npm's global root, and skips
with a reason when either is missing (fails instead under ``REQUIRE_SERVICES=1``).
"""

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from wagtail.models import Page

from cms.models import Author, BlogPostReference, EventResourcesPage, EventSession
from tests.factories import make_post
from tests.services import ROOT, skip_or_fail

JAR_IN_PACKAGE = Path("vnu-jar") / "build" / "dist" / "vnu.jar"


def find_vnu() -> Path | None:
    candidates = [os.environ.get("VNU_JAR", ""), str(ROOT / "node_modules" / JAR_IN_PACKAGE)]
    npm = shutil.which("npm")
    if npm:
        found = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False)  # noqa: S603
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(str(Path(found.stdout.strip()) / JAR_IN_PACKAGE))
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture
def vnu() -> list[str]:
    java = shutil.which("java")
    jar = find_vnu()
    if java is None:
        skip_or_fail("Java is not installed (apt-get install default-jre-headless)")
    if jar is None:
        skip_or_fail("vnu.jar not found (npm install -g vnu-jar, or set VNU_JAR)")
    return [java, "-Xss2m", "-jar", str(jar), "--errors-only", "--format", "json"]


def page_types(seed, client) -> dict[str, bytes]:
    """One rendered page of every type, with the content a real site has."""
    from screening.models import ProgramPage, ScreenerPage

    author = Author.objects.get(slug="dr-pan")
    post = make_post(seed["blog"], "Exercise during chemotherapy", dt.date(2024, 5, 2), author,
                     tags=["exercise"])  # fmt: skip
    post.references = [BlogPostReference(title="A study", url="https://example.org/s", note="n")]
    post.save_revision().publish()
    year = EventResourcesPage.objects.get(year=2019)
    year.sessions = [
        EventSession(title="Cooking", speaker="A. Chef", video_url="https://example.org/v")
    ]
    year.save_revision().publish()
    program = ProgramPage.objects.get()
    program.intro = "<p>Gentle exercises for back pain.</p>"
    program.save_revision().publish()
    screener = ScreenerPage.objects.get()
    form = client.get(screener.url).content.decode()
    token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    pages = {
        "home": client.get("/"),
        "news": client.get(Page.objects.get(slug="news-events").url),
        "blog": client.get(seed["blog"].url),
        "blog-tag": client.get(f"{seed['blog'].url}?tag=exercise"),
        "post": client.get(post.url),
        "seed-post": client.get(seed["post"].url),
        "seeds-of-hope": client.get(seed["events"].url),
        "year": client.get(year.url),
        "year-teaser-only": client.get(EventResourcesPage.objects.get(year=2018).url),
        "screener": client.get(screener.url),
        "screener-error": client.post(screener.url, {"csrfmiddlewaretoken": token}),
        "outcome-none": client.post(
            screener.url, {"answers": ["none"], "csrfmiddlewaretoken": token}
        ),
        "outcome-doctor": client.post(
            screener.url, {"answers": [screener.items[0].id], "csrfmiddlewaretoken": token}
        ),
        "outcome-emergency": client.post(
            screener.url, {"answers": [screener.items[1].id], "csrfmiddlewaretoken": token}
        ),
        "program": client.get(program.url),
        "search": client.get("/search/?query=chemo"),
        "search-suggestion": client.get("/search/?query=arimdex"),
        "search-empty": client.get("/search/"),
        "404": client.get("/no-such-page/"),
    }
    for name, response in pages.items():
        assert response.status_code == (404 if name == "404" else 200), name
    return {name: response.content for name, response in pages.items()}


@pytest.mark.django_db
def test_every_page_type_validates_in_the_nu_html_checker(seed, client, vnu, tmp_path):
    files = []
    for name, html in page_types(seed, client).items():
        path = tmp_path / f"{name}.html"
        path.write_bytes(html)
        files.append(str(path))
    result = subprocess.run(
        [*vnu, *files], capture_output=True, text=True, timeout=300, check=False
    )  # noqa: S603
    report = json.loads(result.stderr or result.stdout)
    assert "version" in report, "vnu answered with its report"
    errors = [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m.get("type") == "error"
    ]
    assert errors == []
    assert len(files) == 19
