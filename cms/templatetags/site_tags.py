"""Template helpers for the site chrome."""

from django import template
from django.utils.safestring import SafeString
from wagtail.models import Site
from wagtail.rich_text import RichText
from wagtail.templatetags.wagtailcore_tags import richtext

from cms.content import clean_rich_text, safe_url
from cms.models import HomePage
from cms.models.base import shown
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
def section_nav(context) -> list:
    """The top-level navigation: the home page's live, public, in-menu children."""
    home = site_home(context)
    if home is None:
        return []
    return list(shown(home.get_children()).in_menu())


@register.filter(name="clean_richtext")
def clean_richtext(value: RichText | str | None) -> SafeString | RichText:
    """Wagtail's ``richtext`` filter, after cleaning the stored HTML (see ``clean_rich_text``).

    Use it instead of ``richtext`` in every reader template.
    """
    source = value.source if isinstance(value, RichText) else value
    return richtext(RichText(public_rich_text(clean_rich_text(source or ""))))


@register.filter(name="safe_url")
def safe_url_filter(value: str | None) -> str:
    """A stored URL fit for an href: empty when it would run script (``javascript:``)."""
    return safe_url(value)
