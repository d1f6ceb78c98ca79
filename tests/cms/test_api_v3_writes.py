"""API v3 page writes: hostile bodies get a 4xx that says what is wrong and write nothing.

Every page type registered for v3 writes, create and update, against the inputs a client
can send: missing, mistyped, unknown, read-only and oversize fields, duplicate slugs, a
parent that does not take the type, required columns v3 cannot write. Each answer must be
JSON with a message, and the database (pages, revisions, log entries) must be as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from wagtail.api.v3.registry import registry
from wagtail.models import APIToken, Page, PageLogEntry, Revision, get_page_models

from cms import api_v3_writes

#: Page types v3 can create and update (Wagtail registers an input schema for them).
WRITABLE_TYPES = sorted(
    model._meta.label
    for model in get_page_models()
    if (registration := registry.get(model._meta.label)) and registration.create_schema
)


@pytest.fixture
def api_token(db) -> str:
    """A bearer token of a superuser: every write path is open to it, so refusals come
    from validation, not from permissions."""
    user = get_user_model().objects.create_superuser("v3-tool", "tool@example.com", "unused")
    return APIToken.create_token(user=user, name="v3 write tests")[1]


def send(client, token: str, method: str, url: str, body: Any):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.generic(
        method,
        url,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def database_state() -> tuple:
    """Everything a page write touches: the tree, revisions and the audit log."""
    pages = list(
        Page.objects.order_by("pk").values_list(
            "pk", "title", "draft_title", "slug", "numchild", "latest_revision_id",
            "live_revision_id", "live", "has_unpublished_changes",
        )
    )  # fmt: skip
    return pages, Revision.objects.count(), PageLogEntry.objects.count()


def problem_message(response) -> str:
    """The answer's explanation: JSON with a ``detail`` or ``message``, plus its errors
    (each with where it is, ``loc``, as Wagtail's problem answers give it)."""
    assert response["Content-Type"].split(";")[0] in (
        "application/json",
        "application/problem+json",
    ), response.content[:200]
    body = response.json()
    parts = [body.get("detail") or body.get("message") or ""]
    parts += [
        f"{'.'.join(map(str, error.get('loc', ())))}: {error.get('msg', '')}"
        for error in body.get("errors") or ()
    ]
    message = " ".join(str(part) for part in parts if part)
    assert message and message != "Validation failed", body
    return message


def model_of(label: str):
    from django.apps import apps

    return apps.get_model(label)


def existing_page(label: str) -> Page:
    page = model_of(label).objects.order_by("pk").first()
    assert page is not None, f"the seed has no {label}"
    return page


def allowed_parent(label: str) -> Page:
    """A page that takes a child of this type (the existing one's parent)."""
    return existing_page(label).get_parent().specific


def refusing_parent(label: str) -> Page:
    """A page whose type does not allow this type below it."""
    model = model_of(label)
    for page in Page.objects.order_by("pk").specific():
        if model not in page.creatable_subpage_models() or not model.can_create_at(page):
            return page
    raise AssertionError(f"every page takes {label}")


def read_only_field(label: str) -> str:
    """A field the type shows through the API but v3 cannot write."""
    writable = set(api_v3_writes.writable_fields(model_of(label)))
    names = [f.name for f in getattr(model_of(label), "api_fields", ()) if f.name not in writable]
    return names[0] if names else "intro"


def blockers(client, token: str, label: str) -> tuple[str, ...]:
    """The fields that stop even a minimal create of ``label`` (its required columns v3
    cannot write, a parent that allows no more of it, its model's own rules), as the
    answer names them; empty when the create works (it is rolled back)."""
    body = {"meta": {"type": label, "parent_id": allowed_parent(label).pk}, "title": "Probe"}
    with transaction.atomic():
        response = send(client, token, "POST", "/api/v3/pages/", body)
        transaction.set_rollback(True)
    if response.status_code == 201:
        return ()
    assert response.status_code == 422, response.content[:300]
    return tuple(str(error["loc"][-1]) for error in response.json()["errors"])


def create_cases(label: str, blocked_by: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    """Hostile create bodies for ``label``: name -> (body, the word, or words, the answer
    must contain). The form's own checks (slug format, duplicates) come after the
    checks that block the type: for a blocked type, naming the blocker is enough."""
    parent = allowed_parent(label)
    meta = {"type": label, "parent_id": parent.pk}
    sibling = parent.get_children().first()
    read_only = read_only_field(label)
    cases = {
        "missing title": ({"meta": meta}, "title"),
        "title of the wrong type": ({"meta": meta, "title": 5}, "title"),
        "title a list": ({"meta": meta, "title": ["a"]}, "title"),
        "unknown field": ({"meta": meta, "title": "T", "nonsense": 1}, "nonsense"),
        "read-only field": ({"meta": meta, "title": "T", read_only: "x"}, read_only),
        "oversize title": ({"meta": meta, "title": "x" * 256}, "title"),
        "oversize slug": ({"meta": meta, "title": "T", "slug": "s" * 256}, "slug"),
        "slug with spaces": ({"meta": meta, "title": "T", "slug": "a b"}, ("slug", *blocked_by)),
        "NUL in title": ({"meta": meta, "title": "a\x00b"}, ("title", *blocked_by)),
        "duplicate slug": (
            {"meta": meta, "title": "T", "slug": sibling.slug},
            ("slug", *blocked_by),
        ),
        "parent refuses the type": (
            {"meta": {"type": label, "parent_id": refusing_parent(label).pk}, "title": "T"},
            "parent_id",
        ),
        "missing parent": ({"meta": {"type": label, "parent_id": 2**31 - 1}, "title": "T"}, ""),
        "parent id past any column": (
            {"meta": {"type": label, "parent_id": 10**30}, "title": "T"},
            "parent_id",
        ),
        "parent id a string": ({"meta": {"type": label, "parent_id": "x"}, "title": "T"}, ""),
        "unknown meta key": ({"meta": {**meta, "owner": 1}, "title": "T"}, "owner"),
        "unknown action": ({"meta": {**meta, "action": "delete"}, "title": "T"}, "action"),
        "body a list": ([meta], "object"),
        "body a number": ("5", "object"),
        "meta a string": ({"meta": label, "title": "T"}, "meta"),
        "meta null": ({"meta": None, "title": "T"}, "meta"),
        "body not JSON": ('{"meta": ', ""),
        "body nested too deep": ("[" * 50_000, ""),
    }
    for name in api_v3_writes.unwritable_required_fields(model_of(label)):
        cases[f"{name}: out of range"] = ({"meta": meta, "title": "T", name: 1}, name)
        cases[f"{name}: wrong type"] = ({"meta": meta, "title": "T", name: "soon"}, name)
        cases[f"{name}: missing"] = ({"meta": meta, "title": "T"}, name)
    return cases


def update_cases(label: str) -> dict[str, tuple[dict | str, str]]:
    page = existing_page(label)
    siblings = page.get_siblings(inclusive=False)
    read_only = read_only_field(label)
    other = next(other for other in WRITABLE_TYPES if other != label)
    cases = {
        "read-only field": ({read_only: "changed", "title": "Changed"}, read_only),
        "unknown field": ({"nonsense": 1, "title": "Changed"}, "nonsense"),
        "title of the wrong type": ({"title": {"a": 1}}, "title"),
        "empty title, published": ({"title": "", "meta": {"action": "publish"}}, "title"),
        "oversize title": ({"title": "x" * 256}, "title"),
        "NUL in title": ({"title": "a\x00b"}, "title"),
        "slug with spaces": ({"slug": "a b"}, "slug"),
        "unknown meta key": ({"meta": {"parent_id": 1}, "title": "Changed"}, "parent_id"),
        "meta of another type": ({"meta": {"type": other}, "title": "Changed"}, ""),
        "body a list": ([{"title": "Changed"}], "object"),
        "meta a string": ({"meta": "x", "title": "Changed"}, ""),
        "body not JSON": ("{", ""),
    }
    if siblings.exists():
        cases["duplicate slug"] = ({"slug": siblings.first().slug}, "slug")
    for name in api_v3_writes.unwritable_required_fields(model_of(label)):
        cases[f"{name}: set"] = ({name: 2024}, name)
    return cases


def check_refused(client, token: str, method: str, url: str, body, words) -> None:
    before = database_state()
    response = send(client, token, method, url, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    message = problem_message(response)
    words = (words,) if isinstance(words, str) else words
    assert any(word in message for word in words), (words, message)
    assert database_state() == before


@pytest.mark.parametrize("label", WRITABLE_TYPES)
def test_hostile_creates_are_refused_with_a_reason_and_write_nothing(
    seed, client, api_token, label
):
    client.raise_request_exception = False
    for case, (body, word) in create_cases(label, blockers(client, api_token, label)).items():
        try:
            check_refused(client, api_token, "POST", "/api/v3/pages/", body, word)
        except AssertionError as exc:
            raise AssertionError(f"create {label}, {case}: {exc}") from exc


@pytest.mark.parametrize("label", WRITABLE_TYPES)
def test_hostile_updates_are_refused_with_a_reason_and_write_nothing(
    seed, client, api_token, label
):
    client.raise_request_exception = False
    url = f"/api/v3/pages/{existing_page(label).pk}/"
    for case, (body, word) in update_cases(label).items():
        try:
            check_refused(client, api_token, "PATCH", url, body, word)
        except AssertionError as exc:
            raise AssertionError(f"update {label}, {case}: {exc}") from exc


def test_a_patch_naming_a_page_type_field_is_refused_not_ignored(seed, client, api_token):
    """The field used to be dropped with a 200; now the client learns it was not written."""
    post = seed["post"]
    before = database_state()
    response = send(
        client, api_token, "PATCH", f"/api/v3/pages/{post.pk}/", {"title": "New", "summary": "x"}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "summary"]
    assert "read-only" in error["msg"] and "title" in error["msg"]
    assert database_state() == before


def test_creating_a_type_with_required_columns_v3_cannot_write_says_so(seed, client, api_token):
    """EventResourcesPage needs a year; v3 cannot write it, so the create is refused (it
    used to end in an IntegrityError and a 500)."""
    before = database_state()
    body = {"meta": {"type": "cms.EventResourcesPage", "parent_id": seed["events"].pk}}
    response = send(client, api_token, "POST", "/api/v3/pages/", {**body, "title": "2031"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {
            "type": "not_writable_required_field",
            "loc": ["body", "year"],
            "msg": (
                "A new cms.EventResourcesPage needs “year”, which API v3 cannot write: "
                "create this page type in the admin."
            ),
        }
    ]
    assert database_state() == before


def test_an_integrity_error_that_gets_through_is_a_422_and_rolled_back(
    seed, client, api_token, monkeypatch
):
    """The backstop: were the check above missing, the database's refusal still reaches
    the client as a 422 naming the column, and the half-made page is gone."""
    monkeypatch.setattr(api_v3_writes, "unwritable_required_fields", lambda model: [])
    client.raise_request_exception = False
    before = database_state()
    body = {"meta": {"type": "cms.EventResourcesPage", "parent_id": seed["events"].pk}}
    response = send(client, api_token, "POST", "/api/v3/pages/", {**body, "title": "2031"})
    assert response.status_code == 422, response.content[:300]
    assert response.json()["errors"][0]["loc"] == ["body", "year"]
    assert "“year”" in response.json()["detail"]
    assert database_state() == before


def test_a_parent_that_does_not_take_the_type_names_what_it_takes(seed, client, api_token):
    body = {"meta": {"type": "cms.BlogPostPage", "parent_id": seed["events"].pk}, "title": "T"}
    response = send(client, api_token, "POST", "/api/v3/pages/", body)
    assert response.status_code == 422
    messages = [e["msg"] for e in response.json()["errors"] if e["loc"][-1] == "parent_id"]
    assert messages == [
        f"cms.BlogPostPage cannot be created under page {seed['events'].pk} "
        "(cms.EventIndexPage); allowed there: cms.EventResourcesPage."
    ]


def test_create_and_update_that_are_valid_work(seed, client, api_token):
    home = seed["home"]
    label = next(
        label
        for label in WRITABLE_TYPES
        if not api_v3_writes.unwritable_required_fields(model_of(label))
        and model_of(label) in home.specific.creatable_subpage_models()
        and model_of(label).can_create_at(home)
    )
    body = {
        "meta": {"type": label, "parent_id": home.pk, "action": "publish"},
        "title": "Made through v3",
        "slug": "made-through-v3",
        "seo_title": "SEO",
    }
    created = send(client, api_token, "POST", "/api/v3/pages/", body)
    assert created.status_code == 201, created.content[:300]
    page = Page.objects.get(pk=created.json()["id"]).specific
    assert type(page)._meta.label == label
    assert (page.title, page.slug, page.seo_title, page.live) == (
        "Made through v3",
        "made-through-v3",
        "SEO",
        True,
    )
    assert page.get_parent().pk == home.pk

    updated = send(client, api_token, "PATCH", f"/api/v3/pages/{page.pk}/", {"title": "Renamed"})
    assert updated.status_code == 200, updated.content[:300]
    page.refresh_from_db()
    assert page.draft_title == "Renamed"
    assert page.title == "Made through v3"  # a draft until published
    published = send(
        client,
        api_token,
        "PATCH",
        f"/api/v3/pages/{page.pk}/",
        {"meta": {"action": "publish"}, "search_description": "Said once"},
    )
    assert published.status_code == 200, published.content[:300]
    page.refresh_from_db()
    assert (page.title, page.search_description) == ("Renamed", "Said once")


def test_writes_without_a_token_are_401_before_any_check(seed, client):
    response = client.patch(
        f"/api/v3/pages/{seed['post'].pk}/",
        data=json.dumps({"summary": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 401


@pytest.mark.clinical_gate
def test_a_v3_update_that_publishes_gated_content_is_refused_and_not_saved(seed, client, api_token):
    """The clinical publish gate applies to PATCH with ``action: publish`` too; the draft
    revision the update made on the way is rolled back with it."""
    from screening.models import ScreenerPage

    screener = ScreenerPage.objects.get()
    before = database_state()
    body = {"meta": {"action": "publish"}, "title": "Published without review?"}
    response = send(client, api_token, "PATCH", f"/api/v3/pages/{screener.pk}/", body)
    assert response.status_code == 403, response.content[:300]
    assert "clinical review" in response.json()["detail"]
    assert database_state() == before


@pytest.mark.parametrize("action", ["copy", "create_alias", "move"])
def test_actions_that_need_a_parent_refuse_the_tree_root(seed, client, api_token, action):
    root = Page.objects.get(depth=1)
    before = database_state()
    body = {"destination_id": seed["home"].pk} if action == "move" else {}
    response = send(client, api_token, "POST", f"/api/v3/pages/{root.pk}/actions/{action}/", body)
    assert response.status_code == 422, response.content[:300]
    assert response.json()["errors"][0]["loc"] == ["path", "page_id"]
    assert database_state() == before


@pytest.mark.parametrize(
    ("action", "body", "key"),
    [
        ("copy", {"destination": 3}, "destination"),
        ("move", {"destination_id": 3, "where": "left"}, "where"),
        ("unpublish", {"recursively": True}, "recursively"),
        ("create_alias", {"parent_id": 3}, "parent_id"),
    ],
)
def test_an_action_body_with_a_key_it_does_not_take_is_refused(
    seed, client, api_token, action, body, key
):
    """A misspelt key used to be dropped: ``copy`` then copied the page beside itself."""
    before = database_state()
    url = f"/api/v3/pages/{seed['post'].pk}/actions/{action}/"
    response = send(client, api_token, "POST", url, body)
    assert response.status_code == 422, response.content[:300]
    assert [error["loc"] for error in response.json()["errors"]] == [["body", key]]
    assert database_state() == before


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE", "POST"])
@pytest.mark.parametrize("page_id", ["null", "0", "-1", "1.5", "1e3", "９", "99999999999999999999"])
def test_a_write_to_a_page_id_that_is_not_one_is_refused(seed, client, api_token, method, page_id):
    """Wagtail looks some ids up before validating them: never a 500, never a write."""
    before = Page.objects.count(), Revision.objects.count()
    path = f"/api/v3/pages/{page_id}/"
    if method == "POST":
        path += "actions/unpublish/"
    response = client.generic(
        method,
        path,
        json.dumps({"title": "x", "meta": {"type": "cms.BlogPostPage"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_token}",
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    assert (Page.objects.count(), Revision.objects.count()) == before
