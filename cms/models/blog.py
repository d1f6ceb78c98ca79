"""The physicians' blog: an index and its posts."""

from django import forms
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms.blocks import ArticleStreamBlock
from cms.rich_text import RichTextField, StreamField
from cms.serializers import AuthorSerializer, SafeURLField, TagNamesField
from cms.syndication import Role, Syndication

from .base import HealthReviewMixin, SitePageMixin, shown
from .snippets import Author

POSTS_PER_PAGE = 10


class BlogIndexPage(SitePageMixin, Page):
    """A blog ("Dr. Pan and Dr. Lee's Blog"): lists its posts newest first."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.NewsEventsPage", "cms.HomePage"]
    subpage_types = ["cms.BlogPostPage"]
    syndication = Syndication(
        "blog",
        Role.LISTING,
        "blog",
        _("Blog posts"),
        description=_("Posts from %(title)s, newest first."),
    )
    api_fields = [APIField("intro")]
    #: The query parameters ``get_context`` reads: the response cache keys on these only.
    cache_query_params = ("page", "tag", "author")

    class Meta:
        verbose_name = _("blog")

    def get_posts(self):
        return shown(BlogPostPage.objects.child_of(self)).order_by(
            "-date", "-first_published_at", "-pk"
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        posts = self.get_posts()
        tag = request.GET.get("tag", "").strip()
        author_slug = request.GET.get("author", "").strip()
        active_author = None
        # Filters as ``pk IN (ids)`` rather than joins: a post matches once, so no DISTINCT,
        # which made PostgreSQL sort every post's full row (body included) on every miss.
        matching = Q()
        if tag:
            matching &= Q(
                pk__in=BlogPostTag.objects.filter(tag__slug=tag).values("content_object_id")
            )
        if author_slug:
            active_author = Author.objects.filter(slug=author_slug).first()
            matching &= Q(
                pk__in=BlogPostAuthor.objects.filter(author__slug=author_slug).values("page_id")
            )
        # Page through ids only, then fetch the page's ten posts by id; count on the page
        # table alone (the content type says which pages are posts, subclasses included).
        paginator = TwoEndedPaginator(
            posts.filter(matching).values_list("pk", flat=True),
            POSTS_PER_PAGE,
            count=shown(Page.objects.child_of(self).type(BlogPostPage)).filter(matching).count(),
        )
        try:
            page_obj = paginator.page(request.GET.get("page", 1))
        except PageNotAnInteger:
            page_obj = paginator.page(1)
        except EmptyPage:
            page_obj = paginator.page(paginator.num_pages)
        page_obj.object_list = _in_order(
            BlogPostPage.objects.prefetch_related("post_authors__author", "tags"),
            list(page_obj.object_list),
        )
        context.update(
            posts=page_obj,
            active_tag=tag,
            active_author=active_author,
            authors=self.get_authors(),
        )
        return context

    def get_authors(self):
        """Authors with at least one post shown here, by name.

        Per author (a department has a handful), the id of any one shown post: a scalar
        subquery with LIMIT 1 stops at the first match. EXISTS, or a join with DISTINCT,
        led PostgreSQL to read every post of the blog on every request.
        """
        one_post = (
            self.get_posts().order_by().filter(post_authors__author=OuterRef("pk")).values("pk")[:1]
        )
        return Author.objects.alias(one_post=Subquery(one_post)).filter(one_post__isnull=False)


class TwoEndedPaginator(Paginator):
    """A paginator told its count, that reads a page in the back half from the far end.

    ``OFFSET n`` makes the database walk n rows; for a page 90 % down a 100,000-post
    blog, reversing the order (a total order: its last key is the primary key) walks a
    tenth of that and reads the same rows, which are then put back in order.
    """

    def __init__(self, object_list, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.count = count  # overrides Paginator's cached property

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom <= self.count // 2:
            return self._get_page(self.object_list[bottom:top], number, self)
        rows = list(self.object_list.reverse()[self.count - top : self.count - bottom])
        return self._get_page(rows[::-1], number, self)


def _in_order(queryset, pks: list[int]) -> list:
    """The objects of ``queryset`` with these primary keys, in the order of ``pks``."""
    found = queryset.in_bulk(pks)
    return [found[pk] for pk in pks if pk in found]


class BlogPostTag(TaggedItemBase):
    content_object = ParentalKey(
        "cms.BlogPostPage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class BlogPostPage(SitePageMixin, HealthReviewMixin, Page):
    """A physician's post. Authors and references are ordered lists editors arrange."""

    date = models.DateField(_("publication date"))
    summary = models.TextField(
        _("lead"), blank=True, help_text=_("The opening paragraph, shown in lists and feeds.")
    )
    body = StreamField(ArticleStreamBlock(), blank=True, verbose_name=_("body"))
    tags = ClusterTaggableManager(through=BlogPostTag, blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel([FieldPanel("date"), FieldPanel("tags")], heading=_("Publication")),
        InlinePanel("post_authors", label=_("Author"), min_num=1, heading=_("Authors")),
        FieldPanel("summary"),
        FieldPanel("body"),
        InlinePanel("references", label=_("Reference"), heading=_("Additional references")),
        *HealthReviewMixin.review_panels,
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("date"),
        index.RelatedFields("tags", [index.SearchField("name")]),
    ]
    parent_page_types = ["cms.BlogIndexPage"]
    subpage_types: list[str] = []
    syndication = Syndication(
        "blog",
        Role.ITEM,
        "blog",
        _("Blog posts"),
        tag_and_author_feeds=True,
        prefetch=("post_authors__author", "tags", "references"),
    )
    api_fields = [
        APIField("date"),
        APIField("authors", serializer=AuthorSerializer(many=True, source="author_list")),
        APIField("summary"),
        APIField("body"),
        APIField("references"),
        APIField("tags", serializer=TagNamesField()),
        *HealthReviewMixin.review_api_fields,
    ]

    class Meta:
        verbose_name = _("blog post")
        # The blog lists newest first (date, then first_published_at and pk on the page
        # table): with this index PostgreSQL reads the first page's rows in order and stops.
        indexes = [models.Index(fields=["-date"], name="cms_blogpost_date_desc_idx")]

    og_type = "article"
    api_prefetch_related = ("post_authors__author__photo", "references", "tags")

    @property
    def author_list(self) -> list[Author]:
        # Lists and feeds prefetch ``post_authors__author``: use it rather than a query per post.
        if "post_authors" in getattr(self, "_prefetched_objects_cache", {}):
            return [item.author for item in self.post_authors.all()]
        return [item.author for item in self.post_authors.select_related("author__photo")]


class BlogPostAuthor(Orderable):
    """Credits an author on a post, in the order the byline shows."""

    page = ParentalKey(BlogPostPage, on_delete=models.CASCADE, related_name="post_authors")
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.PROTECT, related_name="post_authors"
    )

    # A plain select: a department has a handful of authors, and a select needs no modal.
    panels = [FieldPanel("author", widget=forms.Select)]


class BlogPostReference(Orderable):
    """A cited source: title and URL, with an optional note."""

    page = ParentalKey(BlogPostPage, on_delete=models.CASCADE, related_name="references")
    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(_("URL"), max_length=1000)
    note = models.CharField(_("note"), max_length=500, blank=True)

    panels = [FieldPanel("title"), FieldPanel("url"), FieldPanel("note")]
    api_fields = [
        APIField("title"),
        APIField("url", serializer=SafeURLField()),
        APIField("note"),
    ]
