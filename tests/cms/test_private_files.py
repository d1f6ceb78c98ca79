"""Images and documents in a restricted collection never reach an anonymous reader.

Wagtail's images and documents endpoints leave out restricted collections, and its
document view asks for the password or a login; page output (author photos, event
documents) used to carry their URLs anyway, so cms.serializers leaves those out too.
"""

from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, CollectionViewRestriction

from cms.models import Author, EventResource, EventResourcesPage

SECRET_BYTES = b"staff-only handout body"


@pytest.fixture(params=["password", "login"])
def files(request, seed):
    """A public image and document, and a private pair in a collection nested under a
    restricted one (a restriction covers the whole subtree)."""
    root = Collection.get_first_root_node()
    restricted = root.add_child(name="Staff only")
    nested = restricted.add_child(name="Staff handouts")
    CollectionViewRestriction.objects.create(
        collection=restricted,
        restriction_type=request.param,
        password="pw" if request.param == "password" else "",
    )
    image_model, document_model = get_image_model(), get_document_model()

    def image(title, collection):
        return image_model.objects.create(
            title=title, file=get_test_image_file(f"{title.split()[0]}.png"), collection=collection
        )

    def document(title, collection, body):
        return document_model.objects.create(
            title=title, file=ContentFile(body, name="handout.txt"), collection=collection
        )

    return SimpleNamespace(
        kind=request.param,
        public_image=image("Public portrait", root),
        private_image=image("Staffonly portrait", nested),
        public_document=document("Public handout", root, b"public handout body"),
        private_document=document("Staffonly handout", nested, SECRET_BYTES),
    )


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {item["title"] for item in response.json()["items"]}


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["v2", "v3"])
@pytest.mark.parametrize("endpoint", ["images", "documents"])
def test_images_and_documents_never_list_or_return_private_files(files, client, version, endpoint):
    """List, ``?fields=*``, search and detail, in v2 and in v3 (Wagtail 8 mounts both)."""
    url = f"/api/{version}/{endpoint}/"
    kind = "image" if endpoint == "images" else "document"
    public, private = getattr(files, f"public_{kind}"), getattr(files, f"private_{kind}")
    queries = [{}, {"search": private.title}]
    if version == "v2":
        queries.append({"fields": "*"})
    for query in queries:
        listed = titles(client.get(url, query))
        assert private.title not in listed, query
    assert public.title in titles(client.get(url))
    assert client.get(f"{url}{public.pk}/").status_code == 200
    details = [(f"{url}{private.pk}/", {})]
    if version == "v2":
        details.append((f"{url}find/", {"id": private.pk}))
    for path, query in details:
        response = client.get(path, query)
        assert response.status_code == 404, path
        assert private.title not in response.content.decode()


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.django_db
def test_document_download_refuses_anonymous_readers(files, client):
    public = client.get(files.public_document.url)
    assert public.status_code == 200 and _body(public) == b"public handout body"

    response = client.get(files.private_document.url)
    assert SECRET_BYTES not in _body(response)
    if files.kind == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        # Wagtail's password form, with the reader's way in and nothing of the file.
        assert response.status_code == 200
        assert 'name="password"' in response.content.decode()


@pytest.mark.django_db
def test_page_api_leaves_out_private_photos_and_documents(files, seed, client):
    pan, lee = Author.objects.get(slug="dr-pan"), Author.objects.get(slug="dr-lee")
    pan.photo, lee.photo = files.private_image, files.public_image
    pan.save(), lee.save()
    event = EventResourcesPage.objects.get(year=2019)
    event.resources = [
        EventResource(title="Private handout", document=files.private_document),
        EventResource(title="Public handout", document=files.public_document),
    ]
    event.save_revision().publish()
    private_file = files.private_image.file.name.rsplit("/", 1)[-1].split(".")[0]

    post = seed["post"]
    responses = {
        "v2 detail": client.get(f"/api/v2/pages/{post.pk}/"),
        "v2 list": client.get("/api/v2/pages/", {"type": "cms.BlogPostPage", "fields": "*"}),
        "v3 detail": client.get(f"/api/v3/pages/{post.pk}/"),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        data = response.json()
        item = data["items"][0] if "items" in data else data
        photos = {a["name"]: a["photo"] for a in item["authors"]}
        assert photos["Dr. Pan"] is None, name
        assert photos["Dr. Lee"]["url"].endswith(".png"), name
        assert private_file not in response.content.decode(), name

    for url in (f"/api/v2/pages/{event.pk}/", f"/api/v3/pages/{event.pk}/"):
        resources = {r["title"]: r["document"] for r in client.get(url).json()["resources"]}
        assert resources["Private handout"] is None, url
        assert resources["Public handout"]["title"] == "Public handout", url


@pytest.mark.django_db
def test_files_in_a_draft_only_do_not_reach_page_outputs(files, seed, client):
    """A document or image added in an unpublished revision stays out of every page output.

    The documents and images endpoints still list files of public collections: files
    have no draft state in Wagtail, and a public collection is public by choice.
    """
    event = EventResourcesPage.objects.get(year=2019)
    event.resources = [EventResource(title="Draft-only handout", document=files.public_document)]
    event.save_revision()  # not published
    outputs = [
        client.get(f"/api/v2/pages/{event.pk}/"),
        client.get(f"/api/v3/pages/{event.pk}/"),
        client.get("/api/v2/pages/", {"type": "cms.EventResourcesPage", "fields": "*"}),
        client.get(event.url),
        client.get("/feeds/events/json/"),
    ]
    for response in outputs:
        assert response.status_code == 200
        content = response.content.decode()
        assert "Draft-only handout" not in content
        assert files.public_document.url not in content


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["v2", "v3"])
def test_a_collection_made_private_is_hidden_on_the_next_request(seed, client, version):
    """v3 keeps one serializer for all requests: nothing about restrictions may stick to it."""
    collection = Collection.get_first_root_node().add_child(name="Soon private")
    photo = get_image_model().objects.create(
        title="Soon private portrait", file=get_test_image_file(), collection=collection
    )
    Author.objects.filter(slug="dr-pan").update(photo=photo)
    url = f"/api/{version}/pages/{seed['post'].pk}/"

    def pan_photo():
        return {a["name"]: a["photo"] for a in client.get(url).json()["authors"]}["Dr. Pan"]

    assert pan_photo() is not None
    CollectionViewRestriction.objects.create(collection=collection, restriction_type="login")
    assert pan_photo() is None
