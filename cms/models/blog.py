"""The physicians' blog: an index and its posts."""

from django import forms
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms.blocks import ArticleStreamBlock
from cms.serializers import AuthorSerializer, SafeURLField, TagNamesField

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
    api_fields = [APIField("intro")]

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
        if tag:
            posts = posts.filter(tags__slug=tag)
        if author_slug:
            active_author = Author.objects.filter(slug=author_slug).first()
            posts = posts.filter(post_authors__author__slug=author_slug)
        posts = posts.distinct().prefetch_related("post_authors__author", "tags")
        paginator = Paginator(posts, POSTS_PER_PAGE)
        try:
            page_obj = paginator.page(request.GET.get("page", 1))
        except PageNotAnInteger:
            page_obj = paginator.page(1)
        except EmptyPage:
            page_obj = paginator.page(paginator.num_pages)
        context.update(
            posts=page_obj,
            active_tag=tag,
            active_author=active_author,
            authors=Author.objects.filter(post_authors__page__in=self.get_posts()).distinct(),
        )
        return context


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
