"""Media on S3-compatible object storage: stored in a private bucket, served by the app.

moto's in-process S3 stands in for the bucket. The settings are production's own block
(cms/settings/base.py) with AWS_STORAGE_BUCKET_NAME set; the visibility rule still holds.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests.cms.test_visibility import media  # noqa: F401 - the fixture, reused

BUCKET = "cms-media-test"


@pytest.fixture
def s3_media(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", BUCKET)
    monkeypatch.setenv("AWS_S3_REGION_NAME", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        # The STORAGES entry base settings build from those variables, as production would.
        import importlib

        import cms.settings.base as base

        fresh = importlib.reload(base)
        try:
            settings.STORAGES = {**settings.STORAGES, "default": fresh.STORAGES["default"]}
        finally:
            monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME")
            importlib.reload(base)
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3_images(s3_media, media):  # noqa: F811 - media is the imported fixture
    return s3_media, media


@pytest.mark.django_db
def test_uploaded_images_go_to_the_bucket_and_are_served_by_the_app(s3_images, client):
    s3, (public, private, document) = s3_images
    keys = {obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert f"media/{public.file.name}" in keys and f"media/{private.file.name}" in keys
    assert public.file.url == f"/media/{public.file.name}"

    response = client.get(public.file.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert (
        b"".join(response.streaming_content)
        == s3.get_object(Bucket=BUCKET, Key=f"media/{public.file.name}")["Body"].read()
    )
    assert "public" in response["Cache-Control"]
    rendition = public.get_rendition("fill-50x50")
    assert client.get(rendition.url).status_code == 200

    # Still the visibility rule: restricted files are not served, whatever the storage.
    for url in (private.file.url, document.file.url, "/media/original_images/none.png"):
        assert client.get(url).status_code == 404, url
    # And the bucket itself hands nothing out: objects are private.
    acl = s3.get_object_acl(Bucket=BUCKET, Key=f"media/{public.file.name}")
    assert not [g for g in acl["Grants"] if "AllUsers" in str(g.get("Grantee", {}))]
