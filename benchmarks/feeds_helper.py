"""Django-side steps of the feeds benchmark, run as subprocesses against the benchmark database.

``setup``: load the seed site, measure SQL queries per feed build with 10 posts, grow the
blog to N posts, measure again. ``latency``: publish posts one by one and time how long
until the running server's feed shows each one and until the hub receives the ping.
Each prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.request import urlopen


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.feeds_settings")
    import django

    django.setup()


def add_posts(blog, count: int, start: int) -> None:
    """Insert ``count`` live posts fast: tree paths computed here, rows bulk-inserted.

    Going through ``add_child`` and a revision per post would take minutes for 5,000;
    the rows are the same ones Wagtail would write, which is all a feed build reads.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import Tag
    from wagtail.models import Page

    from cms.models import Author, BlogPostAuthor, BlogPostPage, BlogPostTag

    authors = list(Author.objects.order_by("pk")[:2])
    tags = [Tag.objects.get_or_create(name=f"topic {n}", slug=f"topic-{n}")[0] for n in range(5)]
    content_type = ContentType.objects.get_for_model(BlogPostPage)
    blog.refresh_from_db()
    last = blog.get_last_child()
    first_step = (Page._str2int(last.path[-Page.steplen :]) if last else 0) + 1
    base = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        pages = []
        for offset in range(count):
            n = start + offset
            when = base + dt.timedelta(hours=n)
            slug = f"bench-post-{n}"
            pages.append(
                Page(
                    path=Page._get_path(blog.path, blog.depth + 1, first_step + offset),
                    depth=blog.depth + 1,
                    numchild=0,
                    title=f"Bench post {n}",
                    draft_title=f"Bench post {n}",
                    slug=slug,
                    url_path=f"{blog.url_path}{slug}/",
                    content_type=content_type,
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=when,
                    last_published_at=when,
                    locale_id=blog.locale_id,
                )
            )
        Page.objects.bulk_create(pages)
        for page in pages:
            post = BlogPostPage(
                page_ptr_id=page.pk,
                date=page.first_published_at.date(),
                summary=f"Summary of post {page.title}",
                body=json.dumps([{"type": "paragraph", "value": f"<p>Body of {page.title}.</p>"}]),
            )
            post.__dict__.update({f.attname: getattr(page, f.attname) for f in Page._meta.fields})
            post.save_base(raw=True)
        BlogPostAuthor.objects.bulk_create(
            BlogPostAuthor(page_id=page.pk, author=author, sort_order=i)
            for page in pages
            for i, author in enumerate(authors)
        )
        BlogPostTag.objects.bulk_create(
            BlogPostTag(content_object_id=page.pk, tag=tags[i % len(tags)])
            for i, page in enumerate(pages)
        )
        Page.objects.filter(pk=blog.pk).update(numchild=blog.numchild + count)


def count_build_queries() -> dict[str, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from publishing.syndication.feeds import FORMATS, FeedKey, build_feed, render_feed

    request = RequestFactory().get("/feeds/blog/atom/")
    counts = {}
    for fmt in FORMATS:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            render_feed(build_feed(FeedKey("blog")), fmt, request)
        counts[fmt] = len(queries)
    return counts


def setup(posts: int) -> dict:
    _django()
    from django.core.management import call_command

    from cms.models import BlogIndexPage, BlogPostPage

    call_command("load_seed_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    blog = BlogIndexPage.objects.get()
    have = BlogPostPage.objects.count()
    add_posts(blog, 10 - have, start=0)
    small = (BlogPostPage.objects.live().count(), count_build_queries())
    add_posts(blog, posts - 10, start=10)
    large = (BlogPostPage.objects.live().count(), count_build_queries())
    return {"queries": [small, large]}


class _Hub:
    """A WebSub hub on a given loopback port, recording when each topic was pinged."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[float, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                hub.received.append((time.time(), form.get("hub.url", [""])[0]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def latency(server: str, hub_port: int, publishes: int) -> dict:
    _django()
    from cms.models import Author, BlogIndexPage, BlogPostAuthor, BlogPostPage

    hub = _Hub(hub_port)
    blog = BlogIndexPage.objects.get()
    author = Author.objects.order_by("pk").first()
    feed_url = f"{server}/feeds/blog/atom/"
    to_feed, to_hub = [], []
    # One more publish than measured: the first warms the worker and the server up.
    for n in range(publishes + 1):
        title = f"Latency probe {n} {time.time_ns()}"
        post = BlogPostPage(title=title, date=dt.date.today(), summary="probe", live=False)
        post.post_authors = [BlogPostAuthor(author=author)]
        blog.add_child(instance=post)
        revision = post.save_revision()
        started = time.time()
        revision.publish()
        deadline = started + 30
        seen_feed = seen_hub = None
        while (seen_feed is None or seen_hub is None) and time.time() < deadline:
            if seen_feed is None:
                with urlopen(feed_url, timeout=10) as response:  # noqa: S310 - loopback
                    if title.encode() in response.read():
                        seen_feed = time.time()
            if seen_hub is None:
                pings = [at for at, url in list(hub.received) if at >= started and "atom" in url]
                if pings:
                    seen_hub = min(pings)
            time.sleep(0.005)
        if n > 0:
            to_feed.append((seen_feed or float("inf")) - started)
            to_hub.append((seen_hub or float("inf")) - started)
        hub.received.clear()
    hub.server.shutdown()
    return {"to_feed": to_feed, "to_hub": to_hub}


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "setup":
        result = setup(int(argv[1]))
    elif command == "latency":
        result = latency(argv[1], int(argv[2]), int(argv[3]))
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
