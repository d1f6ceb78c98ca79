"""Structured data (schema.org JSON-LD) and Open Graph facts for each page type.

Search engines and link previews read these; health pages also say who reviewed them.
"""

from __future__ import annotations

from wagtail.models import Page

from cms import visibility
from cms.models import (
    BlogPostPage,
    EventIndexPage,
    EventResourcesPage,
    HealthReviewMixin,
    HomePage,
)


def organization(home: HomePage | None) -> dict:
    if home is None:
        return {}
    return {
        "@type": "MedicalOrganization",
        "@id": f"{home.full_url}#organization",
        "name": home.organisation_name,
        "department": {"@type": "MedicalOrganization", "name": home.department_name},
        "url": home.full_url,
    }


def _person(author) -> dict:
    person = {"@type": "Person", "name": author.name}
    if author.credentials:
        person["honorificSuffix"] = author.credentials
    return person


def _post(page: BlogPostPage, home: HomePage | None) -> list[dict]:
    posting = {
        "@type": "BlogPosting",
        "@id": f"{page.full_url}#post",
        "headline": page.title,
        "url": page.full_url,
        "datePublished": page.date.isoformat(),
        "dateModified": (page.last_published_at or page.first_published_at).isoformat()
        if (page.last_published_at or page.first_published_at)
        else page.date.isoformat(),
        "author": [_person(a) for a in page.author_list],
        "keywords": [tag.name for tag in page.tags.all()],
    }
    if page.summary:
        posting["description"] = page.summary.strip()
    if home:
        posting["publisher"] = {"@id": f"{home.full_url}#organization"}
    graph = [posting]
    if _review(page):
        graph.append(_medical_page(page, main_entity=f"{page.full_url}#post"))
    return graph


def _review(page: Page) -> dict:
    """``lastReviewed`` and ``reviewedBy`` of a health page that has a clinical review."""
    if not isinstance(page, HealthReviewMixin) or not (page.last_reviewed and page.reviewed_by):
        return {}
    return {
        "lastReviewed": page.last_reviewed.isoformat(),
        "reviewedBy": _person(page.reviewed_by),
    }


def _medical_page(page: Page, main_entity: str | None = None) -> dict:
    """schema.org ``MedicalWebPage`` for health content, with its review when it has one."""
    data = {"@type": "MedicalWebPage", "url": page.full_url, "name": page.title}
    if main_entity:
        data["mainEntity"] = {"@id": main_entity}
    return {**data, **_review(page)}


def _series(index: EventIndexPage) -> dict:
    return {"@type": "EventSeries", "@id": f"{index.full_url}#series", "name": index.title,
            "url": index.full_url}  # fmt: skip


def _event(page: EventResourcesPage, home: HomePage | None) -> list[dict]:
    event = {
        "@type": "EducationEvent",
        "name": page.title,
        "url": page.full_url,
        "description": page.teaser,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
    }
    parent = visibility.public_parent(page)
    if isinstance(parent, EventIndexPage):
        event["superEvent"] = _series(parent)
    if page.theme:
        event["about"] = page.theme
    if page.event_date:
        event["startDate"] = page.event_date.isoformat()
    if page.place:
        event["location"] = {"@type": "Place", "name": page.place}
    if home:
        event["organizer"] = {"@id": f"{home.full_url}#organization"}
    if _review(page):
        return [event, _medical_page(page)]
    return [event]


def structured_data(page: Page, home: HomePage | None) -> dict:
    """The JSON-LD graph for ``page``: the organisation plus what the page is about."""
    graph = [organization(home)] if home else []
    specific = page.specific
    if isinstance(specific, BlogPostPage):
        graph += _post(specific, home)
    elif isinstance(specific, EventResourcesPage):
        graph += _event(specific, home)
    elif isinstance(specific, EventIndexPage):
        graph.append(_series(specific))
    elif isinstance(specific, HealthReviewMixin):  # screener, program: health pages
        graph.append(_medical_page(specific))
    else:
        graph.append({"@type": "WebPage", "name": page.title, "url": page.full_url})
    return {"@context": "https://schema.org", "@graph": graph}
