"""Rich text is cleaned once, when it is saved, whatever path wrote it; outputs add nothing.

The matrix: every way rich text reaches the database (a model ``save()`` from code,
``QuerySet.update``, a revision saved and published, a draft revision, the admin's edit
form, and the data migration on rows written before the cleaner) ×
hostile inputs (script, ``onerror``, ``javascript:`` and ``data:`` links, ``style``,
``iframe``, broken nesting, and a Wagtail internal link that must survive). For each
cell: what is stored, and what every output carries (the page, API v2 and v3 in both
HTML formats, RSS, Atom and JSON Feed).

v3 writes bind the same admin form (``wagtail.api.v3.form_data``), so the field and block
classes clean them too; no v3 case here because Wagtail 8.0.1's v3 ``PATCH`` and ``POST``
ignore page-specific fields in this project (only ``Page``'s own, such as the title,
arrive), so no rich text reaches the database through them today.

The targets are a blog post's body (a ``RichTextBlock`` in a StreamField) and an event
page's introduction (a ``RichTextField``): both appear in every output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module

import pytest
from bs4 import BeautifulSoup
from defusedxml import ElementTree as ET
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.blocks import StreamValue
from wagtail.models import Page, Revision
from wagtail.rich_text import expand_db_html
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from cms.models import Author, BlogPostPage, EventResourcesPage
from cms.rich_text import clean_rich_text


@dataclass(frozen=True)
class Case:
    """One hostile input: a paragraph whose ``marker`` text must survive everywhere and
    whose ``forbidden`` fragments must appear nowhere (stored or output). ``dropped`` is
    content the cleaner removes whole (a script's or a style sheet's text); the admin's
    editor turns it into plain text before the cleaner sees it, where it is inert."""

    name: str
    html: str
    marker: str
    forbidden: tuple[str, ...]
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Written:
    """What an entry path wrote: which cases, into which targets."""

    cases: tuple[Case, ...]
    pages: tuple[str, ...] = ("post", "event")
    text_kept: bool = False


CASES = (
    Case(
        "script", "<p>keep-scr<script>alert(1)</script></p>", "keep-scr", ("<script",), ("alert(",)
    ),
    Case(
        "onerror",
        '<p>keep-handler<img src="x" onerror="alert(2)"/><b onmouseover="alert(3)">b</b></p>',
        "keep-handler",
        ("onerror", "onmouseover", "<img"),
        ("alert(",),
    ),
    Case(
        "javascript-href",
        '<p><a href="javascript:alert(4)">keep-js</a> '
        '<a href=" java&#x09;script:alert(5)">t</a></p>',
        "keep-js",
        ("javascript",),
        ("alert(",),
    ),
    Case(
        "data-url",
        '<p><a href="data:text/html;base64,PHNjcmlwdD4=">keep-dataurl</a></p>',
        "keep-dataurl",
        ("data:", "PHNjcmlwdD4"),
    ),
    Case(
        "style",
        '<p style="position:fixed" class="x">keep-css<style>p{color:red}</style></p>',
        "keep-css",
        ("position:fixed", "<style", "style="),
        ("color:red",),
    ),
    Case(
        "iframe",
        '<p>keep-frame<iframe src="https://evil.example/">x</iframe>'
        '<embed embedtype="media" url="javascript:alert(6)"/></p>',
        "keep-frame",
        ("<iframe", "evil.example", "javascript"),
        ("alert(",),
    ),
    Case(
        "broken-nesting",
        "<p><b>keep-broken <i>open</p><div onclick='alert(7)'><svg onload=alert(8)><p>after",
        "keep-broken",
        ("onclick", "onload", "<svg"),
        ("alert(",),
    ),
)
HOSTILE = "".join(case.html for case in CASES)
#: What Wagtail's editor converter (the admin form) can parse: not broken nesting.
EDITABLE = tuple(case for case in CASES if case.name != "broken-nesting")


def internal_link(home: Page) -> str:
    """Wagtail's own database format: a page link, and the block key Draftail writes."""
    return f'<p data-block-key="k1"><a linktype="page" id="{home.pk}">m-internal</a></p>'


def stored_internal_link(home: Page) -> str:
    return f'<a linktype="page" id="{home.pk}">m-internal</a>'


# --- the targets ------------------------------------------------------------------------


@pytest.fixture
def targets(seed):
    """The seed blog post and a live event page, both in every output."""
    event = EventResourcesPage(title="Rich text year", slug="rich-text-year", year=2032)
    seed["events"].add_child(instance=event)
    event.save_revision().publish()
    return {
        "home": seed["home"],
        "post": BlogPostPage.objects.get(pk=seed["post"].pk),
        "event": EventResourcesPage.objects.get(pk=event.pk),
    }


def body_with(html: str) -> list:
    return [("paragraph", html)]


def stored_values(targets) -> dict[str, str]:
    """What the database holds for each target, read without any model cleaning."""
    post = BlogPostPage.objects.get(pk=targets["post"].pk)
    paragraphs = [b["value"] for b in post.body.raw_data if b["type"] == "paragraph"]
    return {
        "post": "".join(paragraphs),
        "event": EventResourcesPage.objects.get(pk=targets["event"].pk).intro,
    }


# --- the entry paths --------------------------------------------------------------------


def write_by_save(targets, html, client) -> None:
    """``save()`` from code, with no revision (imports, the shell, scripts)."""
    post, event = targets["post"], targets["event"]
    post.body = body_with(html)
    post.save()
    event.intro = html
    event.save()


def write_by_update(targets, html, client) -> None:
    """``QuerySet.update``: no ``save()``, no signals."""
    BlogPostPage.objects.filter(pk=targets["post"].pk).update(body=body_with(html))
    EventResourcesPage.objects.filter(pk=targets["event"].pk).update(intro=html)


def write_by_revision_publish(targets, html, client) -> None:
    """A revision saved and published: what an editor's publish and the scheduler do."""
    post, event = targets["post"], targets["event"]
    post.body = body_with(html)
    revision = post.save_revision()
    assert_clean_revision(revision, html, targets["home"])
    revision.publish()
    event.intro = html
    revision = event.save_revision()
    assert_clean_revision(revision, html, targets["home"])
    revision.publish()


def write_by_admin_form(targets, html, client) -> Written:
    """The admin's edit form, published. Draftail posts its own format (contentstate), built
    here from the HTML as the editor would; broken nesting is not something it can send."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("rt-admin", "rt@example.org", "pw")
    client.force_login(admin)
    html = "".join(case.html for case in EDITABLE) + internal_link(targets["home"])
    event = targets["event"]
    data = nested_form_data(
        {
            "title": event.title,
            "slug": event.slug,
            "year": event.year,
            "intro": rich_text(html),
            "sessions": inline_formset([]),
            "resources": inline_formset([]),
        }
    )
    data["action-publish"] = "action-publish"
    response = client.post(f"/admin/pages/{event.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    # The post's body through the same form machinery is Draftail again; the block's own
    # form path (``RichTextBlock.clean`` then ``get_prep_value``) is what it exercises.
    post = targets["post"]
    block = post.body.stream_block.child_blocks["paragraph"]
    post.body = body_with(block.clean(block.to_python(html)).source)
    post.save_revision().publish()
    client.logout()
    return Written(EDITABLE, text_kept=True)


def write_by_migration(targets, html, client) -> None:
    """Rows written before the cleaner existed, cleaned by the data migrations.

    The dirty rows are written through the migration state's models (Wagtail's own field
    and block classes, which do not clean), live rows and a draft revision alike.
    """
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state([("cms", "0008_clean_rich_text")])
    old = state.apps
    post, event = targets["post"], targets["event"]
    OldPost = old.get_model("cms", "BlogPostPage")
    body = OldPost._meta.get_field("body")
    raw = [{"type": "paragraph", "value": html, "id": "11111111-1111-1111-1111-111111111111"}]
    OldPost.objects.filter(pk=post.pk).update(body=StreamValue(body.stream_block, raw, True))
    old.get_model("cms", "EventResourcesPage").objects.filter(pk=event.pk).update(intro=html)
    draft = BlogPostPage.objects.get(pk=post.pk).save_revision()
    dirty_content = {**draft.content, "body": json.dumps(raw)}
    Revision.objects.filter(pk=draft.pk).update(content=dirty_content)
    assert html in stored_values(targets)["event"]  # really dirty before

    import_module("cms.migrations.0008_clean_rich_text").clean_app("cms")(old, None)

    draft.refresh_from_db()
    assert_clean_revision(draft, html, targets["home"])


PATHS = [
    write_by_save,
    write_by_update,
    write_by_revision_publish,
    write_by_admin_form,
    write_by_migration,
]


# --- the checks -------------------------------------------------------------------------


def assert_clean(
    html: str, where: str, home: Page, *, stored: bool, written: Written = Written(CASES)
) -> None:
    """Every case's marker is there, none of its forbidden fragments; the internal link
    is kept in Wagtail's database format (stored) or expanded to the home page (output)."""
    for case in written.cases:
        assert case.marker in html, f"{where}: {case.name}: marker lost"
        unwanted = case.forbidden + (() if written.text_kept else case.dropped)
        for fragment in unwanted:
            assert fragment.lower() not in html.lower(), f"{where}: {case.name}: {fragment!r}"
    assert "m-internal" in html, f"{where}: internal link text lost"
    if stored:
        assert stored_internal_link(home) in html, f"{where}: internal link changed"


def assert_clean_revision(revision: Revision, html: str, home: Page) -> None:
    """A revision (a draft preview and a scheduled publish read it) holds clean text."""
    content = revision.content
    for name, value in (("intro", content.get("intro")), ("body", content.get("body"))):
        if not value or (name == "body" and "paragraph" not in value):
            continue
        source = value
        if name == "body":
            source = "".join(b["value"] for b in json.loads(value) if b["type"] == "paragraph")
        assert_clean(source, f"revision {name}", home, stored=True)


def page_html_regions(client, page: Page, selector: str) -> str:
    response = client.get(page.url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    regions = soup.select(selector)
    assert regions, f"no {selector} on {page.url}"
    return "".join(str(region) for region in regions)


def feed_item_html(client, kind: str, fmt: str, title: str) -> str:
    response = client.get(f"/feeds/{kind}/{fmt}/")
    assert response.status_code == 200
    if fmt == "json":
        items = {i["title"]: i["content_html"] for i in response.json()["items"]}
    else:
        root = ET.fromstring(response.content)
        if fmt == "rss":
            content = "{http://purl.org/rss/1.0/modules/content/}encoded"
            items = {i.findtext("title"): i.findtext(content) for i in root.iter("item")}
        else:
            atom = "{http://www.w3.org/2005/Atom}"
            items = {
                e.findtext(f"{atom}title"): e.findtext(f"{atom}content")
                for e in root.iter(f"{atom}entry")
            }
    assert title in items, f"{kind} {fmt}: {title!r} not in the feed"
    return items[title]


def check_outputs(targets, client, written: Written) -> None:
    home = targets["home"]
    post = BlogPostPage.objects.get(pk=targets["post"].pk)
    event = EventResourcesPage.objects.get(pk=targets["event"].pk)
    # (page, its rich text in the page HTML, in the API, feed)
    outputs = {
        "post": (post, ".rich-text", "body", "blog"),
        "event": (event, ".intro", "intro", "events"),
    }
    stored = stored_values(targets)
    for name in written.pages:
        page, selector, api_field, feed = outputs[name]
        value = stored[name]
        assert_clean(value, f"stored {name}", home, stored=True, written=written)
        assert clean_rich_text(value) == value, f"stored {name} is not a fixed point"

        html = page_html_regions(client, page, selector)
        assert_clean(html, f"{name} page", home, stored=False, written=written)
        assert '<a href="/">m-internal</a>' in html, f"{name} page: internal link not expanded"

        for version in ("v2", "v3"):
            for rich_text_format in ("db_html", "html"):
                query = {"rich_text_format": rich_text_format}
                data = client.get(f"/api/{version}/pages/{page.pk}/", query).json()
                value = data[api_field]
                if api_field == "body":
                    value = "".join(b["value"] for b in value if b["type"] == "paragraph")
                where = f"{version} {rich_text_format} {name}"
                db_html = rich_text_format == "db_html"
                assert_clean(value, where, home, stored=db_html, written=written)
                if not db_html:
                    assert 'href="/"' in value, f"{where}: internal link not expanded"

        for fmt in ("rss", "atom", "json"):
            html = feed_item_html(client, feed, fmt, page.title)
            assert_clean(html, f"{feed} {fmt}", home, stored=False, written=written)
            assert 'href="http://testserver/"' in html, f"{feed} {fmt}: internal link"


@pytest.mark.django_db
@pytest.mark.parametrize("write", PATHS, ids=lambda f: f.__name__.removeprefix("write_by_"))
def test_hostile_rich_text_is_clean_when_stored_and_in_every_output(targets, client, write):
    html = HOSTILE + internal_link(targets["home"])
    written = write(targets, html, client) or Written(CASES)
    check_outputs(targets, client, written)


# --- the cleaner itself -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_hostile_input_alone(case):
    cleaned = clean_rich_text(case.html)
    assert case.marker in cleaned
    for fragment in case.forbidden:
        assert fragment.lower() not in cleaned.lower()
    assert clean_rich_text(cleaned) == cleaned


IMAGE_EMBED = (
    '<embed alt="A &quot;q&quot; &amp; &lt;b&gt;" embedtype="image" format="left" id="5"/>'
)


def test_wagtail_database_format_is_kept_and_still_expands(db):
    """Links, image and media embeds, block keys: byte for byte, and Wagtail still reads
    the embeds (its rewriter only matches ``<embed .../>``)."""
    source = (
        '<h2 data-block-key="a1">Heading</h2>'
        '<p data-block-key="a2"><b>b</b> <i>i</i> <a href="https://example.org/?a=1&amp;b=2">'
        'ext</a> <a linktype="document" id="4">doc</a> x<sup>2</sup></p>'
        '<ul><li data-block-key="a3">one</li></ul>'
        f"{IMAGE_EMBED}"
        '<embed embedtype="media" url="https://www.youtube.com/watch?v=abc"/><hr/>'
    )
    cleaned = clean_rich_text(source)
    for kept in (
        '<h2 data-block-key="a1">Heading</h2>',
        '<a href="https://example.org/?a=1&amp;b=2">ext</a>',
        '<a linktype="document" id="4">doc</a>',
        '<li data-block-key="a3">one</li>',
        IMAGE_EMBED,
        '<embed embedtype="media" url="https://www.youtube.com/watch?v=abc"/>',
    ):
        assert kept in cleaned
    assert clean_rich_text(cleaned) == cleaned
    # Expanded, the image embed is gone (no image 5) instead of left as a raw <embed>.
    assert "<embed" not in expand_db_html(cleaned)


def test_unknown_link_and_embed_types_lose_their_type():
    cleaned = clean_rich_text(
        '<p><a linktype="javascript" id="1" href="javascript:x">a</a>'
        '<embed embedtype="script" id="2"/><a target="_blank" rel="opener" href="/x">r</a></p>'
    )
    assert "linktype" not in cleaned and "embedtype" not in cleaned
    assert "javascript" not in cleaned
    assert '<a href="/x">r</a>' in cleaned


def test_migrations_chain_after_the_latest_and_use_the_one_cleaner():
    cms_migration = import_module("cms.migrations.0008_clean_rich_text")
    screening = import_module("screening.migrations.0005_clean_rich_text")
    assert ("cms", "0007_clinical_governance") in cms_migration.Migration.dependencies
    assert ("screening", "0004_clinical_governance") in screening.Migration.dependencies
    assert screening.clean_app is cms_migration.clean_app
    assert cms_migration.clean is clean_rich_text


@pytest.mark.django_db
def test_screening_migration_cleans_screener_rows_and_revisions(seed):
    """The screener's rich text (outcome messages, disclaimer) is in ``screening``."""
    from screening.models import ScreenerPage

    executor = MigrationExecutor(connection)
    old = executor.loader.project_state([("screening", "0005_clean_rich_text")]).apps
    screener = ScreenerPage.objects.get()
    dirty = '<p>m-disclaimer<script>alert(1)</script><a href="javascript:alert(2)">x</a></p>'
    old.get_model("screening", "ScreenerPage").objects.filter(pk=screener.pk).update(
        disclaimer=dirty, doctor_message=dirty
    )
    draft = ScreenerPage.objects.get(pk=screener.pk).save_revision()
    Revision.objects.filter(pk=draft.pk).update(content={**draft.content, "disclaimer": dirty})
    assert ScreenerPage.objects.get(pk=screener.pk).disclaimer == dirty

    import_module("screening.migrations.0005_clean_rich_text").clean_app("screening")(old, None)

    screener = ScreenerPage.objects.get(pk=screener.pk)
    draft.refresh_from_db()
    for value in (screener.disclaimer, screener.doctor_message, draft.content["disclaimer"]):
        assert "m-disclaimer" in value
        assert "<script" not in value and "javascript" not in value and "alert(" not in value


@pytest.mark.django_db
def test_author_bio_is_cleaned_on_save_and_in_the_api(seed, client):
    """A snippet's rich text (the author bio the blog post API nests)."""
    author = seed["post"].author_list[0]
    author.bio = HOSTILE + internal_link(seed["home"])
    author.save()
    stored = Author.objects.get(pk=author.pk).bio
    assert_clean(stored, "stored bio", seed["home"], stored=True)
    for version in ("v2", "v3"):
        data = client.get(f"/api/{version}/pages/{seed['post'].pk}/").json()
        bios = [a["bio"] for a in data["authors"] if a["id"] == author.pk]
        assert bios and bios[0] == stored, version


def test_fields_and_blocks_keep_wagtails_migration_path():
    """Changing the class made no schema migration: migrations see Wagtail's classes."""
    field = EventResourcesPage._meta.get_field("intro")
    assert field.deconstruct()[1] == "wagtail.fields.RichTextField"
    block = BlogPostPage._meta.get_field("body").stream_block.child_blocks["paragraph"]
    assert block.deconstruct()[0] == "wagtail.blocks.RichTextBlock"
    assert block.deconstruct()[2]["features"][0] == "bold"
