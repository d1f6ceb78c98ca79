"""The one visibility rule (cms/visibility.py): one definition, and the outputs it reaches.

The leak matrix (test_leak_matrix.py) walks every output × hidden state; these tests pin
the rule itself (queryset and predicate agree), that no module spells it out again, and
the outputs that had their own gaps: API v3, sessions on the API, uploaded files, rich
text media, promotions and JSON-LD.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import html5lib
import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import APIToken, Collection, CollectionViewRestriction, Page

from cms import visibility
from cms.models import Author, BlogIndexPage, Promo
from tests.cms.conftest import HIDDEN
from tests.factories import make_post
from tests.services import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_queryset_and_predicate_agree_on_every_page(hidden_pages, seed):
    listed = set(visibility.public_pages().values_list("pk", flat=True))
    with visibility.request_memo():
        for page in Page.objects.all():
            assert visibility.is_public(page) == (page.pk in listed), page.title
    for name, page in hidden_pages.items():
        assert page.pk not in listed, name
    assert seed["post"].pk in listed and seed["blog"].pk in listed
    assert Page.objects.get(depth=1).pk not in listed


def _python_sources():
    for folder in ("cms", "publishing", "screening"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_the_rule_is_spelled_out_once():
    """Other modules call cms.visibility; none filters live/public/expiry or restricted
    collections for an output by itself."""
    patterns = {
        r"\.public\(\)": "Wagtail's public() filter",
        r"CollectionViewRestriction\.objects": "restricted collections",
        r"PageViewRestriction\.objects\.(?:values|filter|all)": "restricted pages",
        r"get_view_restrictions\(\)": "a page's restrictions",
    }
    offenders = []
    for path in _python_sources():
        if path.name == "visibility.py":
            continue
        text = path.read_text()
        for pattern, what in patterns.items():
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {what}")
    assert offenders == []


@pytest.mark.django_db
def test_a_lookup_within_a_read_sees_a_restriction_made_in_it(seed):
    post = seed["post"]
    with visibility.request_memo():
        assert visibility.is_public(post)
        restriction = post.get_view_restrictions().model.objects.create(
            page=post, restriction_type="login"
        )
        assert not visibility.is_public(post)
        restriction.delete()
        assert visibility.is_public(post)


# --- API v3 and sessions ----------------------------------------------------------------


def _v3_ids(client: Client, **query) -> set[int]:
    response = client.get("/api/v3/pages/", query)
    assert response.status_code == 200, response.content[:300]
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_v3_hides_a_page_past_its_expiry_before_the_scheduler_runs(seed, client):
    post = seed["post"]
    # The scheduler is not running: only the clock moves past the expiry.
    # 3 s ahead: the first listing must be answered before the expiry, on a busy machine too
    # (1 s ahead, a run with four test processes saw the page already gone).
    Page.objects.filter(pk=post.pk).update(expire_at=timezone.now() + dt.timedelta(seconds=3))
    assert post.pk in _v3_ids(client)
    wait_until(lambda: post.pk not in _v3_ids(client), 7, 0.1, "the expired page to leave v3")
    assert post.pk not in _v3_ids(client, search="Arimidex")
    assert client.get(f"/api/v3/pages/{post.pk}/").status_code == 404
    find = client.get("/api/v3/pages/find/", {"html_path": post.url})
    assert find.status_code == 404


@pytest.mark.django_db
def test_v3_meta_parent_is_null_when_the_parent_is_not_public(seed, client):
    author = Author.objects.first()
    section = seed["home"].add_child(instance=BlogIndexPage(title="Secret section", live=False))
    child = make_post(section, "Live child of a draft", dt.date(2024, 2, 1), author)
    body = client.get(f"/api/v3/pages/{child.pk}/")
    assert body.status_code == 200
    assert body.json()["meta"]["parent"] is None
    assert "Secret section" not in body.content.decode()
    # A public parent is still named.
    shown = client.get(f"/api/v3/pages/{seed['post'].pk}/").json()
    assert shown["meta"]["parent"]["title"] == seed["blog"].title


@pytest.mark.django_db
def test_v3_redirects_need_a_token(seed, client):
    hidden = make_post(seed["blog"], "Hidden draft", dt.date(2024, 1, 1), Author.objects.first(),
                       publish=False)  # fmt: skip
    Redirect.objects.create(old_path="/old-secret", redirect_page=hidden)
    for path in ("/api/v3/redirects/", f"/api/v3/redirects/{Redirect.objects.get().pk}/",
                 "/api/v3/redirects/find/?html_path=/old-secret"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["message"] and "old-secret" not in response.content.decode()
        assert client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    editor = User.objects.create_superuser("tokenholder", "t@example.org", "pw")
    _, key = APIToken.create_token(user=editor, name="partner tool")
    listed = client.get("/api/v3/redirects/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert listed.status_code == 200, listed.content[:300]
    assert "/old-secret" in listed.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["password passer", "signed-in editor"])
def test_a_session_never_widens_the_api(hidden_pages, who):
    reader = Client()
    if who == "password passer":
        page = hidden_pages["private"]
        restriction = page.get_view_restrictions().get()
        unlock = f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/"
        assert reader.post(unlock, {"password": "pw", "return_url": page.url}).status_code == 302
        # Their own view of the page itself still works: they know the password.
        assert "Hidden private" in reader.get(page.url).content.decode()
    else:
        User.objects.create_superuser("editor", "e@example.org", "pw")
        reader.force_login(User.objects.get(username="editor"))
    for url in ("/api/v2/pages/?limit=50", "/api/v3/pages/?limit=50",
                "/api/v2/pages/?search=Hidden", "/api/v3/pages/?search=Hidden"):  # fmt: skip
        body = reader.get(url).content.decode()
        assert not [title for title in HIDDEN if title in body], url
    for page in hidden_pages.values():
        for url in (f"/api/v2/pages/{page.pk}/", f"/api/v3/pages/{page.pk}/"):
            assert reader.get(url).status_code == 404, (url, page.title)


# --- media: files, rich text, StreamField -----------------------------------------------


@pytest.fixture
def media(seed):
    root = Collection.get_first_root_node()
    restricted = root.add_child(name="Staff only")
    nested = restricted.add_child(name="Staff photos")
    CollectionViewRestriction.objects.create(collection=restricted, restriction_type="login")
    image_model = get_image_model()
    public = image_model.objects.create(
        title="Open portrait", file=get_test_image_file("open.png"), collection=root
    )
    private = image_model.objects.create(
        title="Staffonly portrait", file=get_test_image_file("staffonly.png"), collection=nested
    )
    document = get_document_model().objects.create(
        title="Staffonly handout",
        file=ContentFile(b"staff handout", name="staffonly.txt"),
        collection=nested,
    )
    return public, private, document


@pytest.mark.django_db
def test_private_image_files_and_renditions_are_not_served_to_the_public(media, client):
    public, private, document = media
    public_rendition = public.get_rendition("fill-100x100")
    private_rendition = private.get_rendition("fill-100x100")
    for item in (public, public_rendition):
        response = client.get(item.url if hasattr(item, "filter_spec") else item.file.url)
        assert response.status_code == 200
        assert "public" in response["Cache-Control"]
    for url in (private.file.url, private_rendition.url, document.file.url):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"staff handout" not in b"".join(getattr(response, "streaming_content", [b""]))
    for url in ("/media/original_images/nothing-here.png", "/media/../manage.py",
                "/media/%2e%2e/manage.py"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    # Editors still see private thumbnails in the admin; never stored by a shared cache.
    User.objects.create_superuser("editor", "e@example.org", "pw")
    client.force_login(User.objects.get(username="editor"))
    response = client.get(private_rendition.url)
    assert response.status_code == 200 and "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_rich_text_and_image_blocks_drop_private_media_everywhere(media, seed, client):
    public, private, document = media
    post = seed["post"]
    post.body = [
        ("image", {"image": private, "caption": "Private caption"}),
        ("image", {"image": public, "caption": "Open caption"}),
        ("paragraph",
         f'<p>See <a linktype="document" id="{document.pk}">the staff handout</a>.</p>'),
    ]  # fmt: skip
    post.save_revision().publish()
    home = seed["home"]
    home.intro = f'<p>Intro</p><embed embedtype="image" id="{private.pk}" format="left" alt="x"/>'
    home.save_revision().publish()
    private_name = private.file.name.rsplit("/", 1)[-1].split(".")[0]
    outputs = {
        "post": client.get(post.url).content.decode(),
        "home": client.get(home.url).content.decode(),
        "rss": client.get("/feeds/blog/rss/").content.decode(),
        "v2": client.get(f"/api/v2/pages/{post.pk}/").content.decode(),
        "v2 home": client.get(f"/api/v2/pages/{home.pk}/").content.decode(),
    }
    for name, body in outputs.items():
        assert private_name not in body, name
        assert "Private caption" not in body, name
        assert document.file.url not in body and f"/documents/{document.pk}/" not in body, name
    # The document link goes with its text (Wagtail's chooser writes the title there).
    for name, body in outputs.items():
        assert "the staff handout" not in body, name
    assert "Open caption" in outputs["post"] and "<p>See .</p>" in outputs["post"]


# --- promotions and JSON-LD ----------------------------------------------------------


@pytest.mark.django_db
def test_a_promotion_past_its_expiry_leaves_at_once(seed, client):
    promo = Promo.objects.first()
    Promo.objects.filter(pk=promo.pk).update(expire_at=timezone.now() + dt.timedelta(seconds=1))
    assert promo.title in client.get("/").content.decode()
    wait_until(lambda: promo.title not in client.get("/").content.decode(), 5, 0.1, "promo gone")
    api = client.get(f"/api/v2/pages/{seed['home'].pk}/").json()
    assert promo.title not in json.dumps(api["live_promos"])


@pytest.mark.django_db
def test_json_ld_cannot_end_its_script_early(seed, client):
    post = seed["post"]
    title = 'Breakout <!--<script> </script><p id="injected">x</p> & more'
    post.title = title
    post.save_revision().publish()
    response = client.get(post.url)
    content = response.content.decode()
    assert response.status_code == 200
    document = html5lib.parse(content, namespaceHTMLElements=False)
    scripts = document.findall(".//script[@type='application/ld+json']")
    assert len(scripts) == 1
    data = json.loads(scripts[0].text)
    assert any(node.get("headline") == title for node in data["@graph"])
    assert document.find(".//p[@id='injected']") is None
    assert document.find(".//footer") is not None, "the page after the JSON-LD was swallowed"
    assert "<" not in scripts[0].text and ">" not in scripts[0].text


@pytest.mark.django_db
def test_the_editor_is_warned_when_a_published_page_uses_private_media(media, seed, rf):
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from wagtail import hooks

    public, private, document = media
    post = seed["post"]
    post.body = [("image", {"image": private, "caption": ""}), ("image", {"image": public})]
    post.save_revision().publish()
    request = rf.post("/admin/")
    request.session = {}
    request._messages = FallbackStorage(request)
    for hook in hooks.get_hooks("after_publish_page"):
        hook(request, post)
    warnings = [str(m) for m in get_messages(request)]
    assert len(warnings) == 1 and "Staffonly portrait" in warnings[0]
    assert "Open portrait" not in warnings[0]


@pytest.mark.django_db
def test_wagtails_own_expansion_drops_private_media_too(media):
    """A template that uses Wagtail's ``richtext`` directly still shows no private media."""
    from wagtail.rich_text import expand_db_html

    public, private, document = media
    html = expand_db_html(
        f'<p><embed embedtype="image" id="{private.pk}" format="left" alt="a"/>'
        f'<embed embedtype="image" id="{public.pk}" format="left" alt="b"/>'
        f'<a linktype="document" id="{document.pk}">handout</a></p>'
    )
    private_name = private.file.name.rsplit("/", 1)[-1].split(".")[0]
    assert private_name not in html and document.file.url not in html
    assert f"/documents/{document.pk}/" not in html
    assert 'alt="b"' in html and "<a>handout</a>" in html
