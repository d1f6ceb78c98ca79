"""Recreate the customer's seed page as real Wagtail pages, word for word.

Idempotent: every object is looked up by its slug first and left alone when it exists,
so a second run changes nothing (and never overwrites what editors changed since).
A page the seed gives nothing to read (the program page: a title only) is saved as a
draft, never published: a reader must not land on an empty page (``cms.reading``). The
site's trust signals (contact block, footer notices) are seeded as values plainly marked
"[Placeholder: …]": the seed page has none, and inventing a hospital's phone is worse
than showing that it is missing.
"""

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from cms import publish_gate
from cms.models import (
    Author,
    BlogIndexPage,
    BlogPostAuthor,
    BlogPostPage,
    BlogPostReference,
    EventIndexPage,
    EventResourcesPage,
    HomePage,
    HomePagePromo,
    NavigationItem,
    NewsEventsPage,
    Promo,
    ReaderTrustSettings,
)
from cms.models.base import shown
from cms.reading import has_reader_content
from cms.signals import seed_content_loading

SEED_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "seed_content.json"

#: What the department must fill in (Settings → Reader trust signals). Never invented facts.
TRUST_PLACEHOLDERS = {
    "phone": "[Placeholder: department phone]",
    "address": "[Placeholder: department address]",
    "hours": "[Placeholder: opening hours]",
    "appointments": "[Placeholder: how to get an appointment: who refers, whether patients "
    "can self-refer, what to bring]",
    "language_assistance": "[Placeholder: language assistance line: free interpreter "
    "services and the number to call]",
}


def child_by_slug(parent: Page, model: type[Page], slug: str) -> Page | None:
    return model.objects.child_of(parent).filter(slug=slug).first()


def add_seed_page(parent: Page, page: Page) -> Page:
    """Add ``page`` under ``parent``: live only when it has something to read."""
    page.live = has_reader_content(page)
    parent.add_child(instance=page)
    return page


def publish_seed_page(page: Page, when: dt.datetime | None = None) -> Page:
    """Publish ``page``; one without content gets a draft revision only (see module doc)."""
    if not has_reader_content(page):
        page.save_revision()
        page.refresh_from_db()
        return page
    page.save_revision().publish()
    if when is not None:
        # Seed content is historical: dates in feeds and the API must say so.
        Page.objects.filter(pk=page.pk).update(first_published_at=when, last_published_at=when)
    page.refresh_from_db()
    return page


def get_or_create_seed_page(parent: Page, model: type[Page], data: dict) -> tuple[Page, bool]:
    existing = child_by_slug(parent, model, data["slug"])
    if existing:
        return existing, False
    page = add_seed_page(parent, model(**data))
    return publish_seed_page(page), True


class Command(BaseCommand):
    help = "Create the Cancer Care site from the seed page (idempotent)."

    def handle(self, *args, **options) -> None:
        seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))
        # A system action: seed pages go live without the clinical-review gate. Seeded
        # health pages carry no review ("Not yet clinically reviewed" to readers) and the
        # screener is "not yet signed off", listed on the dashboard for sign-off.
        with transaction.atomic(), publish_gate.system_action("seed content"):
            created = self.load(seed)
        if created:
            self.stdout.write(self.style.SUCCESS(f"Seed content: created {created} objects."))
        else:
            self.stdout.write("Seed content: already present, nothing changed.")

    def load(self, seed: dict) -> int:
        self.created = 0
        home = self.home(seed["home"])
        self.promos(home, seed["promos"])
        news = self.page(home, NewsEventsPage, seed["news"])
        authors = self.authors(seed["authors"])
        blog = self.page(news, BlogIndexPage, seed["blog"])
        for post in seed["posts"]:
            self.post(blog, post, authors)
        events_index = self.page(news, EventIndexPage, seed["events_index"])
        for event in seed["events"]:
            self.page(events_index, EventResourcesPage, event)
        # Apps that depend on cms (the screener) add their own seed pages here, so cms
        # never imports them.
        for _receiver, created in seed_content_loading.send(sender=self.__class__, home=home):
            self.created += created or 0
        self.trust_settings(home)
        return self.created

    def trust_settings(self, home: HomePage) -> None:
        """Placeholders for the contact block and notices; the menu by section name.

        Only when the site has no settings yet: what editors saved is never overwritten.
        """
        site = Site.objects.filter(root_page=home).first()
        if site is None or ReaderTrustSettings.objects.filter(site=site).exists():
            return
        settings_row = ReaderTrustSettings.objects.create(site=site, **TRUST_PLACEHOLDERS)
        self.created += 1
        # A page's title names the page ("Back Pain Program: Before You Start"); the menu
        # names the section, the part before a colon. Editors change it under Settings.
        for order, page in enumerate(shown(home.get_children()).in_menu()):
            label = page.title.split(":", 1)[0].strip()[:60]
            NavigationItem.objects.create(
                setting=settings_row, label=label, page=page, sort_order=order
            )

    def page(self, parent: Page, model: type[Page], data: dict, when=None) -> Page:
        existing = child_by_slug(parent, model, data["slug"])
        if existing:
            return existing
        page = add_seed_page(parent, model(**data))
        self.created += 1
        return publish_seed_page(page, when)

    def home(self, data: dict) -> HomePage:
        home = HomePage.objects.first()
        if home:
            return home
        root = Page.get_first_root_node() or self.root()
        # Wagtail's initial migration leaves a "Welcome" placeholder at the slug we need.
        placeholders = root.get_children().filter(
            slug=data["slug"], content_type__model="page", content_type__app_label="wagtailcore"
        )
        placeholder_ids = list(placeholders.values_list("pk", flat=True))
        for placeholder in placeholders:
            placeholder.slug = f"welcome-{placeholder.pk}"
            placeholder.save(update_fields=["slug"])
        home = HomePage(**data)
        root.add_child(instance=home)
        self.created += 1
        publish_seed_page(home)
        # Canonical URLs (feeds, API, sitemap) are built from the site's host and port.
        base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={
                "hostname": base.hostname or "localhost",
                "port": base.port or (443 if base.scheme == "https" else 80),
                "root_page": home,
                "site_name": data["title"],
            },
        )
        Page.objects.filter(pk__in=placeholder_ids).delete()
        return home

    def root(self) -> Page:
        """Wagtail's migrations make the tree root; a flushed database has none."""
        locale = Locale.objects.first() or Locale.objects.create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
        return Page.add_root(instance=Page(title="Root", slug="root", locale=locale))

    def promos(self, home: HomePage, promos: list[dict]) -> None:
        for data in promos:
            if Promo.objects.filter(title=data["title"]).exists():
                continue
            promo = Promo.objects.create(**data, live=False)
            promo.save_revision().publish()
            HomePagePromo.objects.create(page=home, promo=promo, sort_order=home.promos.count())
            self.created += 1

    def authors(self, authors: list[dict]) -> dict[str, Author]:
        result = {}
        for data in authors:
            author, created = Author.objects.get_or_create(slug=data["slug"], defaults=data)
            self.created += int(created)
            result[author.slug] = author
        return result

    def post(self, blog: BlogIndexPage, data: dict, authors: dict[str, Author]) -> None:
        if child_by_slug(blog, BlogPostPage, data["slug"]):
            return
        date = dt.date.fromisoformat(data["date"])
        page = BlogPostPage(
            title=data["title"],
            slug=data["slug"],
            date=date,
            summary=data["summary"],
            body=json.dumps(data["body"]),
        )
        page.post_authors = [
            BlogPostAuthor(author=authors[slug], sort_order=i)
            for i, slug in enumerate(data["authors"])
        ]
        page.references = [
            BlogPostReference(sort_order=i, **ref) for i, ref in enumerate(data["references"])
        ]
        page.tags.add(*data["tags"])
        blog.add_child(instance=page)
        self.created += 1
        when = timezone.make_aware(dt.datetime.combine(date, dt.time(9, 0)))
        publish_seed_page(page, when)
