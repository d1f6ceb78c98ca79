"""The seed loader recreates the customer's page word for word, and only once."""

import html
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Page, Revision

from cms.models import Author, BlogPostPage, EventResourcesPage, HomePage, Promo

SEED_TEXT = Path(__file__).resolve().parents[2] / "cms" / "fixtures" / "seed_page.txt"
# Shown only when a post has references: an empty heading would mislead screen readers.
SHOWN_ONLY_WITH_CONTENT = {"Additional References:"}


def normalise(text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()


def seed_lines() -> list[str]:
    lines = []
    for raw in SEED_TEXT.read_text(encoding="utf-8").splitlines():
        line = raw.strip().lstrip("•").strip()
        if line and line not in SHOWN_ONLY_WITH_CONTENT:
            lines.append(normalise(line))
    return lines


@pytest.mark.django_db
def test_seed_builds_the_site_tree(seed):
    home = seed["home"]
    assert home.department_name == "Cancer Care"
    assert home.organisation_name == "Santa Clara Medical Center"
    post = seed["post"]
    assert post.date.isoformat() == "2010-07-01"
    assert post.first_published_at.date().isoformat() == "2010-07-01"
    assert [a.name for a in post.author_list] == ["Dr. Pan", "Dr. Lee"]
    assert post.get_parent().title == "Dr. Pan and Dr. Lee's Blog"
    assert post.get_parent().get_parent().title == "News & Events"
    years = list(EventResourcesPage.objects.live().order_by("-year").values_list("year", "theme"))
    assert years == [(2019, "Eat Well, Heal Well Live Well"), (2018, "Healthy Body, Healthy Mind")]
    assert [p["title"] for p in home.live_promos] == [
        "Destination health: Stopping cancer before it starts"
    ]
    # Wagtail's "Welcome" placeholder is gone; the site serves the department's home.
    assert not Page.objects.filter(title__startswith="Welcome to your new Wagtail").exists()
    assert home.get_site().root_page_id == home.pk


@pytest.mark.django_db
def test_seed_is_idempotent(seed):
    counts = (
        Page.objects.count(),
        Revision.objects.count(),
        Author.objects.count(),
        Promo.objects.count(),
    )
    call_command("load_seed_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (
        Page.objects.count(),
        Revision.objects.count(),
        Author.objects.count(),
        Promo.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_seed_does_not_overwrite_editor_changes(seed):
    post = seed["post"]
    post.title = "Edited by an editor"
    post.save_revision().publish()
    call_command("load_seed_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert BlogPostPage.objects.get(pk=post.pk).title == "Edited by an editor"


@pytest.mark.django_db
def test_every_line_of_the_seed_page_is_on_the_site(seed, client):
    from screening.models import ScreenerPage

    rendered = ""
    for page in Page.objects.live().specific():
        if page.depth < 2:
            continue
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        rendered += " " + response.content.decode()
    # The outcome text is shown after the screener is answered; it is the page's content.
    rendered += " " + ScreenerPage.objects.get().doctor_message
    rendered = normalise(rendered)
    missing = [line for line in seed_lines() if line not in rendered]
    assert missing == []


@pytest.mark.django_db
def test_home_is_single(seed):
    assert HomePage.objects.count() == 1
