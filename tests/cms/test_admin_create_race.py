"""A page create form sent twice at once: the editor gets the page, once, not a 500."""

from __future__ import annotations

import html5lib
import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.utils import timezone
from wagtail.models import Page

NS = "{http://www.w3.org/1999/xhtml}"


def form_data(html: str) -> dict[str, str]:
    """The edit form's fields as a browser would send them untouched."""
    tree = html5lib.parse(html)
    form = next(f for f in tree.iter(f"{NS}form") if f.get("data-edit-form") is not None)
    data: dict[str, str] = {}
    for field in form.iter(f"{NS}input"):
        kind = field.get("type", "text")
        if field.get("name") and kind not in ("submit", "button", "file", "checkbox", "radio"):
            data[field.get("name")] = field.get("value", "")
        elif (
            field.get("name") and kind in ("checkbox", "radio") and field.get("checked") is not None
        ):
            data[field.get("name")] = field.get("value", "on")
    for field in form.iter(f"{NS}textarea"):
        if field.get("name"):
            data[field.get("name")] = field.text or ""
    for field in form.iter(f"{NS}select"):
        chosen = [o for o in field.iter(f"{NS}option") if o.get("selected") is not None]
        if field.get("name") and chosen:
            data[field.get("name")] = chosen[0].get("value", "")
    return data


def new_post_form(client, blog, **fields: str) -> tuple[str, dict[str, str]]:
    """The create form of a post under ``blog``, as an editor would fill it in."""
    from cms.models import Author

    url = f"/admin/pages/add/cms/blogpostpage/{blog.pk}/"
    data = form_data(client.get(url).content.decode())
    data.update(date=timezone.localdate().isoformat(), **fields)
    data["body-count"] = "0"  # the body's StreamField is drawn by script: an empty one
    data["post_authors-0-author"] = str(Author.objects.get(slug="dr-pan").pk)
    return url, data


@pytest.mark.django_db
def test_a_create_form_sent_twice_at_once_leads_to_the_one_page_it_made(seed, client, monkeypatch):
    editor = get_user_model().objects.create_superuser("twice", "t@example.org", "pw-twice-1234")
    client.force_login(editor)
    url, data = new_post_form(
        client, seed["blog"], title="Sent twice", slug="sent-twice", summary="One form, two POSTs."
    )
    first = client.post(url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    page = Page.objects.get(slug="sent-twice")
    assert first["Location"].endswith(f"/admin/pages/{page.pk}/edit/")

    # The second POST's form check ran before the first committed: the slug looked free.
    real = Page._slug_is_available
    calls = []

    def free_to_the_form(slug, parent_page, page=None):
        calls.append(slug)
        return True if len(calls) == 1 else real(slug, parent_page, page)

    monkeypatch.setattr(Page, "_slug_is_available", staticmethod(free_to_the_form))
    second = client.post(url, data)
    assert len(calls) >= 2, "the save did not check the slug again"
    assert second.status_code == 302
    assert second["Location"].endswith(f"/admin/pages/{page.pk}/edit/")
    said = [str(m) for m in get_messages(second.wsgi_request)]
    assert any("sent twice" in m and "Sent twice" in m for m in said), said
    assert Page.objects.filter(slug="sent-twice").count() == 1


@pytest.mark.django_db
def test_a_slug_another_editor_took_at_the_same_instant_is_a_form_error(seed, client, monkeypatch):
    """Not this form's page: the editor keeps what they typed and is told the slug is taken."""
    users = get_user_model().objects
    first = users.create_superuser("first", "f@example.org", "pw-first-1234")
    second = users.create_superuser("second", "s@example.org", "pw-second-1234")
    blog = seed["blog"]
    client.force_login(second)
    url, data = new_post_form(
        client,
        blog,
        title="Second editor's title",
        slug="taken-at-once",
        summary="Typed by the second editor, kept.",
    )
    # The first editor's page commits between the second's form check and its save.
    real = Page._slug_is_available
    calls = []

    def free_to_the_form(slug, parent_page, page=None):
        calls.append(slug)
        if len(calls) == 1:
            from cms.models import BlogPostPage

            taken = BlogPostPage(title="First editor's", slug=slug, date=timezone.localdate())
            taken.owner = first
            blog.add_child(instance=taken)
            return True
        return real(slug, parent_page, page)

    monkeypatch.setattr(Page, "_slug_is_available", staticmethod(free_to_the_form))
    answer = client.post(url, data)
    assert answer.status_code == 200, answer.status_code
    html = answer.content.decode()
    assert "taken-at-once" in html and "is already in use" in html, html[:3000]
    assert "Typed by the second editor, kept." in html
    assert Page.objects.filter(slug="taken-at-once").count() == 1
    assert Page.objects.get(slug="taken-at-once").owner_id == first.pk
