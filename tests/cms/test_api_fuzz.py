"""Fuzz the public API: no input gives a 5xx, and every 4xx explains itself in JSON.

API v3 is driven by schemathesis from its own OpenAPI document, reads without a token and
writes with one; API v2 has no OpenAPI document, so hypothesis generates its query
parameters directly. Page writes also get bodies built from our own page types' fields,
which schemathesis' random ids and types rarely reach; a refused one writes nothing.
"""

import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wagtail.api.v3.urls import api as api_v3
from wagtail.models import Page

from tests.cms.test_api_v3_writes import WRITABLE_TYPES, database_state, existing_page, send
from tests.cms.test_api_v3_writes import api_token as api_token  # a fixture

# Round-trip through JSON as the /openapi.json view does: it renders lazy strings.
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api_v3.get_openapi_schema(path_prefix="/api/v3/"), cls=DjangoJSONEncoder))
)
# Derandomised: CI runs the same examples every time, so a failure is reproducible
# and a green run is not luck. New inputs come from widening the strategies.
FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_sane(status: int, body: bytes, what: str) -> None:
    assert status < 500, f"{what}: HTTP {status}: {body[:300]!r}"
    if 400 <= status < 500 and status != 405:
        try:
            json.loads(body)
        except ValueError as exc:
            raise AssertionError(
                f"{what}: HTTP {status} without a JSON body: {body[:200]!r}"
            ) from exc


@pytest.mark.django_db
# Reads only: every write needs a token (test_api checks the 401), and schemathesis
# cannot build valid bodies for Wagtail's polymorphic page schemas anyway.
# The snippet routes' ``{type}`` has a schema hypothesis cannot satisfy; they get the
# explicit cases below instead.
@SCHEMA.include(method="GET").exclude(path_regex="/snippets/").parametrize()
@FUZZ_SETTINGS
def test_v3_never_errors(case, seed, client):
    send_case_and_check(client, case)


@pytest.mark.django_db
# Every write operation (pages, actions, sites, images, redirects...) with a superuser's
# token, so the bodies reach Wagtail's validation and actions, not just the 401.
@(
    SCHEMA.include(method=["POST", "PUT", "PATCH", "DELETE"])
    .exclude(path_regex="/snippets/")
    .parametrize()
)
@FUZZ_SETTINGS
def test_v3_writes_with_a_token_never_error(case, seed, client, api_token):
    client.raise_request_exception = False
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_token}"}
    send_case_and_check(client, case)


def send_case_and_check(client, case) -> None:
    """Send a schemathesis case through Django's test client (not WSGI), so the request
    shares the test's transaction and database connection; the answer must be sane."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    url = urlsplit(kwargs["url"])
    query = urlencode(kwargs.get("params") or {}, doseq=True)
    body = json.dumps(kwargs["json"]) if "json" in kwargs else (kwargs.get("data") or "")
    headers = {
        k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "content-type"
    }
    response = client.generic(
        kwargs["method"],
        f"{url.path}?{query}" if query else url.path,
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert_sane(response.status_code, response.content, f"{case.method} {url.path} {query}")


PARAM_NAMES = [
    "type",
    "fields",
    "order",
    "search",
    "limit",
    "offset",
    "child_of",
    "descendant_of",
    "ancestor_of",
    "locale",
    "site",
    "search_operator",
    "slug",
    "id",
]
#: Inputs that once gave 500s: digits other than 0-9 ("²".isdigit() is true, int("²")
#: raises), numbers past any integer column, lone surrogates (sent as their UTF-8-style
#: bytes, as a client can), and searches of hundreds of words (the search backend's
#: RecursionError).
ODD_VALUES = st.one_of(
    st.text(st.characters(categories=["Nd", "No", "Cs"]), min_size=1, max_size=5),
    st.integers(min_value=0, max_value=10**60).map(str),
    st.sampled_from(["²", "٣", "１", "\ud800", "1\udfff", "9" * 5000]),
    st.integers(min_value=33, max_value=5000).map(lambda n: " ".join(["pain"] * n)),
    st.integers(min_value=65, max_value=5000).map(lambda n: "x" * n),
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
    ODD_VALUES,
    st.sampled_from(
        [
            "*",
            "-title",
            "random",
            "cms.BlogPostPage",
            "wagtailcore.Page",
            "root",
            "_,title",
            "body,-id",
            "and",
            "or",
            "0",
            "-1",
            "1e9",
            "%00",
            "title(",
            '"',
            '"Arimidex',
            "a'b OR c*",
            "",
        ]
    ),
)


@pytest.mark.django_db
@given(
    params=st.dictionaries(st.sampled_from(PARAM_NAMES), VALUES, max_size=4),
    endpoint=st.sampled_from(["pages/", "pages/6/", "pages/find/", "images/", "documents/"]),
)
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_v2_never_errors(client, seed, params, endpoint):
    response = client.get(f"/api/v2/{endpoint}?{query_string(params)}")
    assert_sane(response.status_code, response.content, f"GET /api/v2/{endpoint} {params!r}")


def query_string(params: dict[str, str]) -> str:
    """Percent-encoded as a client could send it, lone surrogates included (as the bytes
    ``surrogatepass`` gives: the test client's own encoding refuses them)."""
    return "&".join(
        f"{quote(name)}={quote(value, errors='surrogatepass')}" for name, value in params.items()
    )


def v3_query_parameters() -> tuple[list[str], list[str]]:
    """The GET endpoints of v3 without path parameters, and every query parameter they take."""
    paths, names = [], set()
    for path, operations in SCHEMA.raw_schema["paths"].items():
        if "get" not in operations or "{" in path or "/snippets/" in path:
            continue
        paths.append(path)
        names.update(p["name"] for p in operations["get"].get("parameters", ()))
    return sorted(paths), sorted(names)


V3_PATHS, V3_PARAM_NAMES = v3_query_parameters()


@pytest.mark.django_db
@given(
    params=st.dictionaries(st.sampled_from(V3_PARAM_NAMES), ODD_VALUES, min_size=1, max_size=3),
    path=st.sampled_from(V3_PATHS + ["/api/v3/pages/6/", "/api/v3/pages/6/revisions/"]),
)
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_v3_odd_values_never_error(client, seed, params, path):
    """Schemathesis sends values its schema allows; these are the odd ones it would not."""
    response = client.get(f"{path}?{query_string(params)}")
    assert_sane(response.status_code, response.content, f"GET {path} {params!r}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "snippets/cms.Promo/",
        "snippets/cms.Promo/1/",
        "snippets/cms.Promo/1/revisions/",
        "snippets/cms.Promo/abc/",
        "snippets/nope.Nope/",
        "snippets/cms.Author/1/",
        "snippets/%00/",
    ],
)
def test_v3_snippet_routes_never_error(client, seed, path):
    response = client.get(f"/api/v3/{path}")
    assert_sane(response.status_code, response.content, path)
    assert response.status_code in (401, 403, 404)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v3/pages/?offset=99999999999999999999", "“offset” must be at most 1000000000."),
        ("/api/v2/pages/?offset=-1", "“offset” must be a whole number of 0 or more."),
        ("/api/v2/pages/?limit=%C2%B2", "“limit” must be a whole number of 0 or more."),
        ("/api/v3/images/?offset=%D9%A3", "“offset” must be a whole number of 0 or more."),
        ("/api/v3/pages/?search=%00", "query parameter 'search' contains a NUL byte"),
        ("/api/v2/pages/?search=a&search_operator=xor", "search_operator must be 'and' or 'or'"),
        ("/api/v2/pages/6/?search=a&search_operator=0", "search_operator must be 'and' or 'or'"),
        ("/api/v2/pages/find/?id=abc", "“id” must be a whole number of 1 or more."),
        ("/api/v2/images/find/?id=%C2%B2", "“id” must be a whole number of 1 or more."),
        (
            "/api/v3/pages/?search=" + "+".join(["pain"] * 450),
            "“search” must have at most 32 words.",
        ),
        ("/api/v2/pages/?search=%22", "search must contain at least one word"),
        ("/api/v3/pages/?search=%27%28", "search must contain at least one word"),
    ],
)
def test_inputs_that_crash_wagtail_get_a_400_that_says_why(client, seed, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["message"] == message


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["/api/v2/pages/", "/api/v3/pages/"])
def test_search_with_quotes_and_punctuation_finds_the_words(client, seed, endpoint):
    """SQLite's full-text syntax used to turn a quote into a 500; the words are searched."""
    response = client.get(endpoint, {"search": '"Arimidex"!'})
    assert response.status_code == 200
    titles = [item["title"] for item in response.json()["items"]]
    assert seed["post"].title in titles


PAGE_FIELDS = [
    "title", "slug", "seo_title", "search_description", "show_in_menus", "intro", "summary",
    "body", "year", "date", "teaser", "items", "id", "meta", "live",
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), VALUES),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(PAGE_FIELDS), children, max_size=3)
    ),
    max_leaves=6,
)


@pytest.mark.django_db
@given(
    data=st.data(),
    body=st.dictionaries(st.sampled_from(PAGE_FIELDS), JSON_VALUES, max_size=4),
    create=st.booleans(),
    label=st.sampled_from(WRITABLE_TYPES),
    action=st.sampled_from([None, "publish", "delete", 1]),
)
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_v3_page_writes_with_odd_bodies_never_error(
    client, seed, api_token, data, body, create, label, action
):
    """Creates and updates of the seed's pages with bodies mixing real, read-only and
    unknown fields: never a 5xx, and a refused write leaves the database as it was."""
    client.raise_request_exception = False
    page_ids = list(Page.objects.order_by("pk").values_list("pk", flat=True))
    # Mostly a page the write can go to (the type's usual parent, a page of that type)
    # and a title, so the bodies get past the schema to the form and the database.
    usual = existing_page(label)
    usual_id = usual.get_parent().pk if create else usual.pk
    page_id = data.draw(st.sampled_from([usual_id, usual_id, *page_ids]))
    if data.draw(st.integers(0, 3)):
        body.setdefault("title", data.draw(st.text(min_size=1, max_size=20)))
    meta = {"action": action} if action else {}
    if create:
        body["meta"] = {**meta, "type": label, "parent_id": page_id}
        method, url = "POST", "/api/v3/pages/"
    else:
        if meta:
            body["meta"] = meta
        method, url = "PATCH", f"/api/v3/pages/{page_id}/"
    before = database_state()
    response = send(client, api_token, method, url, body)
    assert_sane(response.status_code, response.content, f"{method} {url} {body!r}")
    if response.status_code >= 400:
        assert database_state() == before, f"{method} {url} {body!r}: refused, yet written"
