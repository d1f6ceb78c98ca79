"""Template helpers for the site chrome."""

from django import template
from wagtail.models import Site

from cms.models import HomePage
from cms.models.base import shown

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
