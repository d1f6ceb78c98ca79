"""Template helpers for the site chrome."""

from django import template
from django.utils.safestring import SafeString
from wagtail.models import Page, Site
from wagtail.rich_text import RichText
from wagtail.templatetags.wagtailcore_tags import richtext

from cms import visibility
from cms.content import safe_url
from cms.models import HomePage, ReaderTrustSettings
from cms.models.base import shown
from cms.reading import has_reader_content
from cms.rich_text import public_rich_text

register = template.Library()


@register.simple_tag(takes_context=True)
def site_home(context) -> HomePage | None:
    """The department's home page for this request's site, for the header and nav."""
    request = context.get("request")
    if request is None:
        return HomePage.objects.live().first()
    cache_attr = "_site_home"
    if not hasattr(request, cache_attr):
        site = Site.find_for_request(request)
        root = site.root_page.specific if site else None
        setattr(request, cache_attr, root if isinstance(root, HomePage) else None)
    return getattr(request, cache_attr)


@register.simple_tag(takes_context=True)
def trust_settings(context) -> ReaderTrustSettings | None:
    """This site's identity, contact block and notices (``ReaderTrustSettings``), or None."""
    request = context.get("request")
    cache_attr = "_trust_settings"
    if request is not None and hasattr(request, cache_attr):
        return getattr(request, cache_attr)
    site = Site.find_for_request(request) if request is not None else None
    site = site or Site.objects.filter(is_default_site=True).first()
    found = ReaderTrustSettings.objects.filter(site=site).first() if site else None
    if request is not None:
        setattr(request, cache_attr, found)
    return found


@register.simple_tag(takes_context=True)
def site_logo(context):
    """The logo image, when one is set and readers may see it (``cms.visibility``)."""
    found = trust_settings(context)
    logo = found.logo if found and found.logo_id else None
    return logo if visibility.is_public_media(logo) else None


@register.simple_tag(takes_context=True)
def section_nav(context) -> list[dict]:
    """The main navigation by section name: ``label`` and ``page`` of each entry.

    From the site settings' "Main navigation" (public pages only); without any, the home
    page's public in-menu children under their titles.
    """
    found = trust_settings(context)
    items = list(found.navigation.select_related("page")) if found else []
    if items:
        public = set(
            shown(Page.objects.filter(pk__in=[i.page_id for i in items])).values_list(
                "pk", flat=True
            )
        )
        return [{"label": i.label, "page": i.page} for i in items if i.page_id in public]
    home = site_home(context)
    if home is None:
        return []
    return [{"label": p.title, "page": p} for p in shown(home.get_children()).in_menu()]


@register.filter(name="has_reader_content")
def has_reader_content_filter(page) -> bool:
    """True when the page has something to read (see ``cms.reading.has_reader_content``)."""
    return has_reader_content(page)


@register.filter(name="clean_richtext")
def clean_richtext(value: RichText | str | None) -> SafeString | RichText:
    """Wagtail's ``richtext`` filter without restricted images and documents.

    Use it instead of ``richtext`` in every reader template. The stored HTML was cleaned
    when it was saved (``cms.rich_text.clean_rich_text``); this adds the public-media rule,
    which can change after the save.
    """
    source = value.source if isinstance(value, RichText) else value
    return richtext(RichText(public_rich_text(source or "")))


@register.filter(name="safe_url")
def safe_url_filter(value: str | None) -> str:
    """A stored URL fit for an href: empty when it would run script (``javascript:``)."""
    return safe_url(value)


@register.filter(name="page_kind")
def page_kind(page) -> str:
    """What kind of page a search result is ("Blog post", "Seeds of Hope year"), for readers."""
    name = str(type(page.specific)._meta.verbose_name)
    return name[:1].upper() + name[1:]


@register.filter(name="page_date")
def page_date(page):
    """The date a reader would give the page: a post's date, an event's, else its last publish."""
    specific = page.specific
    return (
        getattr(specific, "date", None)
        or getattr(specific, "event_date", None)
        or specific.last_published_at
    )
