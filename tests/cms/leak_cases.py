"""Builders for the leak matrix (tests/cms/test_leak_matrix.py): hidden states and outputs.

Each hidden state is built through Wagtail's own operations (publish, unpublish, view
restrictions, revisions), so every signal that production relies on fires. A state is
built in two steps: ``setup`` leaves the site as readers could see it just before the
content became hidden (the warm cache is filled then), ``hide`` makes it hidden.

Every canary carries a unique marker (``CANARY-<state>-<hex>``) in its title and body;
the matrix looks for the marker, case-insensitively, in every anonymous answer.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction

from cms.models import (
    BlogIndexPage,
    BlogPostPage,
    EventResource,
    EventResourcesPage,
    HomePagePromo,
    Promo,
)
from tests.factories import make_post

PASSWORD = "canary-pw"  # noqa: S105 - a test page's password


@dataclass
class Canary:
    """One hidden state, as built: what must never reach an anonymous client."""

    state: str
    marker: str
    #: A plain word in the canary's body and title, searched for by the search outputs
    #: (searching for the marker itself would echo it back in "No results for ...").
    word: str
    tag: str
    #: Further strings that must not appear in any output other than the page's own URL
    #: (a hidden page's slug: its own URL echoes it in the login link or password form).
    secrets: list[str] = field(default_factory=list)
    #: Pages that must be gone: own URL 404 (or Wagtail's login/password answer), API 404.
    gone: list[Page] = field(default_factory=list)
    #: Live pages that must still answer 200, without the marker.
    live: list[Page] = field(default_factory=list)
    #: Images and documents that must not be listed, shown or downloadable.
    images: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    #: Paths fetched as extra outputs (redirect old paths).
    extra_paths: list[str] = field(default_factory=list)
    #: (restriction, page) pairs a privileged visitor unlocks with PASSWORD.
    passwords: list[tuple[PageViewRestriction, Page]] = field(default_factory=list)
    #: State-specific objects (an expiry instant, a collection, a promotion).
    expire_at: dt.datetime | None = None
    collection: Collection | None = None
    promo: Promo | None = None

    def strings(self, own_url: bool = False) -> list[str]:
        """What must not appear, lowercased; a page's own URL may echo its slug."""
        found = [self.marker.lower()]
        if not own_url:
            found += [s.lower() for s in self.secrets]
        return found


def new_canary(state: str, tag: str) -> Canary:
    hex_part = secrets.token_hex(3)
    word = "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))
    return Canary(state=state, marker=f"CANARY-{state}-{hex_part}", word=word, tag=tag)


def add_post(
    site: SimpleNamespace,
    canary: Canary,
    parent: Page | None = None,
    publish: bool = True,
    title: str | None = None,
    text: str | None = None,
    **extra,
) -> BlogPostPage:
    """A blog post carrying the canary's marker (title, lead, body) and search word."""
    title = title or f"{canary.marker} post {canary.word}"
    text = text or f"{canary.marker} {canary.word}"
    return make_post(
        parent or site.blog,
        title,
        dt.date(2030, 1, 1),
        site.author,
        tags=[canary.tag],
        publish=publish,
        slug=f"p-{canary.word}",
        body=[("paragraph", f"<p>Body of {text}</p>")],
        **extra,
    )


def add_program(
    site: SimpleNamespace, canary: Canary, parent: Page | None = None, publish: bool = True
) -> Page:
    """A program page with the marker, which the screener's "go on" link points at."""
    from screening.models import ProgramPage

    program = ProgramPage(
        title=f"{canary.marker} program {canary.word}",
        slug=f"g-{canary.word}",
        intro=f"<p>Program of {canary.marker}</p>",
        show_in_menus=True,  # the site navigation would list it if it were public
        live=False,
    )
    (parent or site.home).add_child(instance=program)
    revision = program.save_revision()
    if publish:
        revision.publish()
    program.refresh_from_db()
    point_screener_at(site, program)
    return program


def point_screener_at(site: SimpleNamespace, program: Page) -> None:
    screener = site.screener
    screener.refresh_from_db()
    screener.program_page = program
    screener.save_revision().publish()


def _republish(page: Page) -> None:
    """An editor publishing a page again (a private page gets edited too): partners and
    hubs must not hear of it."""
    page = page.specific
    page.refresh_from_db()
    page.save_revision().publish()


# --- states -----------------------------------------------------------------------------
# Each state is (setup, hide). ``setup`` returns nothing; both fill in the canary.


def draft_setup(site, c: Canary) -> None:
    pass


def draft_hide(site, c: Canary) -> None:
    post = add_post(site, c, publish=False)
    program = add_program(site, c, publish=False)
    c.gone += [post, program]
    c.secrets += [post.slug, program.slug]


def newer_draft_setup(site, c: Canary) -> None:
    c.live.append(add_post(site, c, title=f"LIVE-{c.word} post", text=f"live {c.word}"))


def newer_draft_hide(site, c: Canary) -> None:
    post = c.live[0].specific
    post.refresh_from_db()
    post.title = f"{c.marker} draft title"
    post.summary = f"Draft summary {c.marker}"
    post.body = [("paragraph", f"<p>Draft body {c.marker}</p>")]
    post.save_revision()  # not published


def scheduled_setup(site, c: Canary) -> None:
    pass


def scheduled_hide(site, c: Canary) -> None:
    tomorrow = timezone.now() + dt.timedelta(days=1)
    post = add_post(site, c, publish=False, go_live_at=tomorrow)
    post.get_latest_revision().publish()  # Wagtail stores approved_go_live_at
    program = add_program(site, c, publish=False)
    program.go_live_at = tomorrow
    program.save_revision().publish()
    for page in (post, program):
        page.refresh_from_db()
        assert not page.live and page.get_latest_revision().approved_go_live_at
    c.gone += [post, program]
    c.secrets += [post.slug, program.slug]


def _restricted_setup(site, c: Canary) -> None:
    c.gone += [add_post(site, c), add_program(site, c)]


def _restrict(c: Canary, kind: str) -> None:
    for page in c.gone:
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=kind, password=PASSWORD if kind == "password" else ""
        )
        if kind == "password":
            c.passwords.append((restriction, page))
        _republish(page)
    c.secrets += [page.slug for page in c.gone]


def login_hide(site, c: Canary) -> None:
    _restrict(c, PageViewRestriction.LOGIN)


def password_hide(site, c: Canary) -> None:
    _restrict(c, PageViewRestriction.PASSWORD)


def ancestor_setup(site, c: Canary) -> None:
    section = BlogIndexPage(
        title=f"{c.marker} staff section", slug=f"s-{c.word}", show_in_menus=True, live=False
    )
    site.home.add_child(instance=section)
    section.save_revision().publish()
    section.refresh_from_db()
    post = add_post(site, c, parent=section)
    program = add_program(site, c, parent=section)
    c.gone += [section, post, program]


def ancestor_hide(site, c: Canary) -> None:
    section = c.gone[0]
    PageViewRestriction.objects.create(page=section, restriction_type=PageViewRestriction.LOGIN)
    for page in c.gone[1:]:
        _republish(page)
    c.secrets += [page.slug for page in c.gone]


def expired_setup(site, c: Canary) -> None:
    # Live until a few seconds from now; ``hide`` waits for the instant to pass. No
    # scheduler runs in these tests, so the pages stay live=True.
    c.expire_at = timezone.now() + dt.timedelta(seconds=site.expiry_delay)
    c.gone += [add_post(site, c, expire_at=c.expire_at), add_program(site, c)]
    program = c.gone[1].specific
    program.expire_at = c.expire_at
    program.save_revision().publish()


def expired_hide(site, c: Canary) -> None:
    site.wait_until_past(c.expire_at)
    for page in c.gone:
        page.refresh_from_db()
        assert page.live, "the scheduler must not have run"
    c.secrets += [page.slug for page in c.gone]


def unpublished_setup(site, c: Canary) -> None:
    c.gone += [add_post(site, c), add_program(site, c)]


def unpublished_hide(site, c: Canary) -> None:
    for page in c.gone:
        page.specific.unpublish()
    c.secrets += [page.slug for page in c.gone]


def media_setup(site, c: Canary) -> None:
    """A public post and event using an image and a document, then their collection is
    restricted (and both pages edited again, so partners get a new payload)."""
    collection = Collection.get_first_root_node().add_child(name=f"Staff {c.word}")
    name = c.marker.lower()
    image = get_image_model().objects.create(
        title=f"{c.marker} portrait",
        file=get_test_image_file(f"{name}.png"),
        collection=collection,
    )
    document = get_document_model().objects.create(
        title=f"{c.marker} handout",
        file=ContentFile(f"handout body {c.marker}".encode(), name=f"{name}.txt"),
        collection=collection,
    )
    body = [
        {
            "type": "image",
            "value": {
                # No alt text of its own: the image's title stands in for it.
                "image": {"image": image.pk, "decorative": False, "alt_text": ""},
                "caption": f"Caption {c.word}",
            },
        },
        {
            "type": "paragraph",
            "value": (
                # Link text and alt text are the editor's words, not the files' titles.
                f'<p>Rich text {c.word} <a linktype="document" id="{document.pk}">'
                f"the handout</a></p>"
                f'<embed embedtype="image" id="{image.pk}" format="fullwidth" '
                f'alt="A portrait"/>'
            ),
        },
    ]
    post = make_post(
        site.blog,
        f"Illustrated post {c.word}",
        dt.date(2030, 1, 1),
        site.author,
        tags=[c.tag],
        slug=f"m-{c.word}",
        body=body,
    )
    event = EventResourcesPage.objects.get(year=2019)
    event.resources = [
        *event.resources.all(),
        EventResource(title=f"Handout {c.word}", document=document),
    ]
    event.save_revision().publish()
    c.live += [post, event]
    c.images.append(image)
    c.documents.append(document)
    c.collection = collection


def media_hide(site, c: Canary) -> None:
    CollectionViewRestriction.objects.create(
        collection=c.collection, restriction_type=CollectionViewRestriction.LOGIN
    )
    for page in c.live:
        page = page.specific
        page.refresh_from_db()
        page.save_revision().publish()


def parent_setup(site, c: Canary) -> None:
    pass


def parent_hide(site, c: Canary) -> None:
    """A live child under a parent that was never published."""
    parent = BlogIndexPage(
        title=f"{c.marker} unpublished blog", slug=f"u-{c.word}", show_in_menus=True, live=False
    )
    site.home.add_child(instance=parent)
    parent.save_revision()
    parent.refresh_from_db()
    child = add_post(site, c, parent=parent, title=f"Child {c.word}", text=f"child {c.word}")
    assert child.live and not parent.live
    c.gone.append(parent)
    c.live.append(child)


def promo_setup(site, c: Canary) -> None:
    c.expire_at = timezone.now() + dt.timedelta(seconds=site.expiry_delay)
    promo = Promo(title=f"{c.marker} promo", text=f"Promo text {c.marker}", live=False)
    promo.expire_at = c.expire_at
    promo.save()
    promo.save_revision().publish()
    home = site.home.specific
    home.refresh_from_db()
    home.promos = [*home.promos.all(), HomePagePromo(promo=promo)]
    home.save_revision().publish()
    c.promo = promo


def promo_hide(site, c: Canary) -> None:
    site.wait_until_past(c.expire_at)
    c.promo.refresh_from_db()
    assert c.promo.live, "the scheduler must not have run"


def redirect_setup(site, c: Canary) -> None:
    pass


def redirect_hide(site, c: Canary) -> None:
    """Redirects to a draft page and to a password-protected one."""
    draft = add_post(site, c, publish=False)
    private = add_program(site, c, publish=False)
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.PASSWORD, password=PASSWORD
    )
    private.save_revision().publish()  # published while private: never public
    for target, name in ((draft, "draft"), (private, "private")):
        old_path = f"/{c.marker.lower()}-{name}"
        Redirect.objects.create(old_path=old_path, redirect_page=target)
        c.extra_paths.append(old_path + "/")
    c.gone += [draft, private]
    c.secrets.append(draft.slug)


STATES: dict[str, tuple[Callable, Callable]] = {
    "draft": (draft_setup, draft_hide),
    "newer_draft": (newer_draft_setup, newer_draft_hide),
    "scheduled": (scheduled_setup, scheduled_hide),
    "login": (_restricted_setup, login_hide),
    "password": (_restricted_setup, password_hide),
    "restricted_ancestor": (ancestor_setup, ancestor_hide),
    "expired": (expired_setup, expired_hide),
    "unpublished": (unpublished_setup, unpublished_hide),
    "restricted_media": (media_setup, media_hide),
    "unpublished_parent": (parent_setup, parent_hide),
    "expired_promo": (promo_setup, promo_hide),
    "redirect_to_hidden": (redirect_setup, redirect_hide),
}


# --- outputs ------------------------------------------------------------------------------


@dataclass
class Output:
    """One public output: a name for the failure message and how to fetch it."""

    name: str
    path: str
    params: dict = field(default_factory=dict)
    method: str = "get"
    #: "own": the hidden page's own URL or API detail, which must be gone.
    kind: str = "public"
    follow: bool = False
    content_type: str | None = None

    def fetch(self, client):
        if self.method == "post":
            if self.content_type:
                return client.post(self.path, self.params, content_type=self.content_type)
            return client.post(self.path, self.params)
        return client.get(self.path, self.params, follow=self.follow)


FEED_FORMATS = ("rss", "atom", "json")


def outputs(site: SimpleNamespace, c: Canary) -> list[Output]:
    """Every public output of the site, for this canary's pages, tag, word and files."""
    blog, events = site.blog, site.events
    found = [
        Output("home page", "/"),
        Output("blog index", blog.url),
        Output("blog index ?tag=", blog.url, {"tag": c.tag}),
        Output("blog index ?author=", blog.url, {"author": site.author.slug}),
        Output("events index", events.url),
        Output("news section", site.news.url),
        Output("another post (nav, breadcrumbs)", site.post.url),
        Output("another event page", site.event.url),
        Output("site search", "/search/", {"query": c.word}),
        Output("sitemap.xml", "/sitemap.xml"),
        Output("screener page", site.screener.url),
        Output("screener outcome (program link)", site.screener.url, {"answers": "none"}, "post"),
        Output(
            "screener JSON (program link)",
            f"/api/screening/{site.screener.pk}/evaluate/",
            {"answers": ["none"]},
            "post",
            content_type="application/json",
        ),
        Output("v2 pages list", "/api/v2/pages/", {"limit": 100}),
        Output(
            "v2 pages list ?fields=*",
            "/api/v2/pages/",
            {"type": "cms.BlogPostPage", "fields": "*", "limit": 100},
        ),
        Output("v2 pages ?search=", "/api/v2/pages/", {"search": c.word}),
        Output("v2 screener detail", f"/api/v2/pages/{site.screener.pk}/"),
        Output("v2 home detail (promos)", f"/api/v2/pages/{site.home.pk}/"),
        Output("v2 images list", "/api/v2/images/", {"limit": 100}),
        Output("v2 images ?search=", "/api/v2/images/", {"search": c.word}),
        Output("v2 documents list", "/api/v2/documents/", {"limit": 100}),
        Output("v2 documents ?search=", "/api/v2/documents/", {"search": c.word}),
        Output("v3 pages list", "/api/v3/pages/", {"limit": 100}),
        Output("v3 pages list ?type=", "/api/v3/pages/", {"type": "cms.BlogPostPage"}),
        Output("v3 pages ?search=", "/api/v3/pages/", {"search": c.word}),
        Output("v3 screener detail", f"/api/v3/pages/{site.screener.pk}/"),
        Output("v3 home detail (promos)", f"/api/v3/pages/{site.home.pk}/"),
        Output("v3 images list", "/api/v3/images/"),
        Output("v3 documents list", "/api/v3/documents/"),
        Output("v3 redirects list", "/api/v3/redirects/"),
        Output("v3 promo snippets", "/api/v3/snippets/cms.Promo/"),
    ]
    for kind, prefix in (
        ("blog", "/feeds/blog/"),
        ("tag", f"/feeds/blog/tag/{c.tag}/"),
        ("author", f"/feeds/blog/author/{site.author.slug}/"),
        ("events", "/feeds/events/"),
    ):
        found += [Output(f"{kind} feed ({fmt})", f"{prefix}{fmt}/") for fmt in FEED_FORMATS]
    for page in c.gone:
        label = type(page.specific).__name__
        found += [
            Output(f"own URL of the {label}", page.url, kind="own"),
            Output(f"v2 detail of the {label}", f"/api/v2/pages/{page.pk}/", kind="own"),
            Output(
                f"v2 find ?html_path= of the {label}",
                "/api/v2/pages/find/",
                {"html_path": page.url},
                kind="own",
                follow=True,
            ),
            Output(f"v3 detail of the {label}", f"/api/v3/pages/{page.pk}/", kind="own"),
            Output(
                f"v3 find ?html_path= of the {label}",
                "/api/v3/pages/find/",
                {"html_path": page.url},
                kind="own",
                follow=True,
            ),
            Output(
                f"v3 find ?id= of the {label}",
                "/api/v3/pages/find/",
                {"id": page.pk},
                kind="own",
                follow=True,
            ),
        ]
    for page in c.live:
        label = f"live {type(page.specific).__name__}"
        found += [
            Output(f"page of the {label}", page.url, kind="live"),
            Output(f"v2 detail of the {label}", f"/api/v2/pages/{page.pk}/", kind="live"),
            Output(f"v3 detail of the {label}", f"/api/v3/pages/{page.pk}/", kind="live"),
            Output(
                f"v3 detail ?version=draft of the {label}",
                f"/api/v3/pages/{page.pk}/",
                {"version": "draft"},
                kind="live",
            ),
            Output(
                f"v3 find ?html_path= of the {label}",
                "/api/v3/pages/find/",
                {"html_path": page.url},
                kind="live",
                follow=True,
            ),
        ]
    for image in c.images:
        found += [
            Output("v2 image detail", f"/api/v2/images/{image.pk}/", kind="own"),
            Output("v3 image detail", f"/api/v3/images/{image.pk}/", kind="own"),
        ]
    for document in c.documents:
        found += [
            Output("v2 document detail", f"/api/v2/documents/{document.pk}/", kind="own"),
            Output("v3 document detail", f"/api/v3/documents/{document.pk}/", kind="own"),
        ]
    found += [Output(f"redirect {path}", path, kind="redirect") for path in c.extra_paths]
    return found


def file_urls(c: Canary) -> list[str]:
    """Every URL a restricted image or document can be downloaded from."""
    from django.conf import settings

    urls = []
    for image in c.images:
        image.refresh_from_db()
        urls.append(image.file.url)
        urls += [rendition.url for rendition in image.renditions.all()]
    for document in c.documents:
        urls += [document.url, settings.MEDIA_URL + document.file.name]
    return urls
