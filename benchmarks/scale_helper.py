"""Django-side steps of the scale benchmark, run as subprocesses against its PostgreSQL database.

``setup N``: load the seed site and grow the blog to N posts. ``grow N``: grow it to N.
``sweep``: time the scheduler's sweep (the body beat runs every second). ``schedule K``:
K pending scheduled revisions and K live pages with a future expiry. ``explain``: the
sweep's queries through EXPLAIN ANALYZE. ``index drop|create``: the partial ``expire_at``
index (migration cms 0004), to measure the sweep without it. Each command prints one JSON
object on its last stdout line.

Posts are written with PostgreSQL's COPY: ``add_child`` (treebeard plus multi-table
inheritance plus a revision) would take most of an hour for 100,000 pages. The rows are
the ones Wagtail writes: materialised paths, depth, numchild, url_path, translation_key,
locale and content type, verified afterwards with treebeard's own consistency check.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Sequence

#: Posts built and copied per batch, so 100,000 page objects never sit in memory at once.
BATCH = 5000
#: Sweeps timed per measurement (after a few warm-up sweeps).
SWEEPS = int(os.environ.get("BENCH_SCALE_SWEEPS", "40"))
INDEX_NAME = "wagtailcore_page_expire_at_idx"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.feeds_settings")
    import django

    django.setup()


def _copy(model, fields: Sequence, objects: Iterable) -> int:
    """COPY ``fields`` of ``objects`` into ``model``'s table; values prepared as Django would."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row(
                    [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
                )
                count += 1
    return count


def _reserve_ids(model, count: int) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _body(n: int) -> list[dict]:
    text = (
        "Regular screening finds many cancers early, when treatment works best. "
        "Ask your physician which tests suit your age and history. "
    )
    return [
        {"type": "heading", "value": {"text": f"Section {n}", "level": "h2"}, "id": f"h{n}"},
        {"type": "paragraph", "value": f"<p>{text * 3}</p>", "id": f"p{n}a"},
        {"type": "paragraph", "value": f"<p>{text * 2} ({n})</p>", "id": f"p{n}b"},
    ]


def add_posts(count: int) -> float:
    """Append ``count`` live posts under the blog, in COPY batches; seconds taken."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import Tag
    from wagtail.models import Page

    from cms.models import Author, BlogIndexPage, BlogPostAuthor, BlogPostPage, BlogPostTag

    started = time.monotonic()
    blog = BlogIndexPage.objects.get()
    authors = list(Author.objects.order_by("pk"))
    tags = [
        Tag.objects.get_or_create(slug=f"scale-topic-{n}", defaults={"name": f"Scale topic {n}"})[0]
        for n in range(20)
    ]
    content_type = ContentType.objects.get_for_model(BlogPostPage)
    last = blog.get_last_child()
    next_step = (Page._str2int(last.path[-Page.steplen :]) if last else 0) + 1
    start = BlogPostPage.objects.count()
    base = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)
    page_fields = Page._meta.concrete_fields
    post_fields = BlogPostPage._meta.local_concrete_fields
    author_fields = [f for f in BlogPostAuthor._meta.concrete_fields if not f.primary_key]
    tag_fields = [f for f in BlogPostTag._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            ids = _reserve_ids(Page, size)
            posts = []
            for offset, pk in enumerate(ids):
                n = start + done + offset
                when = base + dt.timedelta(minutes=50 * n)
                slug = f"scale-post-{n}"
                post = BlogPostPage(
                    id=pk,
                    path=Page._get_path(blog.path, blog.depth + 1, next_step + done + offset),
                    depth=blog.depth + 1,
                    numchild=0,
                    title=f"Scale post {n}",
                    draft_title=f"Scale post {n}",
                    slug=slug,
                    url_path=f"{blog.url_path}{slug}/",
                    content_type=content_type,
                    locale_id=blog.locale_id,
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=when,
                    last_published_at=when,
                    date=when.date(),
                    summary=f"What post {n} says, in one paragraph for lists and feeds.",
                    body=_body(n),
                )
                post.page_ptr_id = pk
                posts.append(post)
            _copy(Page, page_fields, posts)
            _copy(BlogPostPage, post_fields, posts)
            # Every post has an author (the admin requires one); every fourth has two.
            _copy(
                BlogPostAuthor,
                author_fields,
                (
                    BlogPostAuthor(page_id=post.pk, author=author, sort_order=i)
                    for j, post in enumerate(posts)
                    for i, author in enumerate(
                        authors[: 2 if j % 4 == 0 else 1] if j % 2 else authors[-1:]
                    )
                ),
            )
            # Most posts carry one or two tags; every fifth has none.
            _copy(
                BlogPostTag,
                tag_fields,
                (
                    BlogPostTag(content_object_id=post.pk, tag=tag)
                    for j, post in enumerate(posts)
                    if j % 5
                    for tag in {tags[j % 20], tags[(j * 7) % 20]}
                ),
            )
            done += size
        Page.objects.filter(pk=blog.pk).update(numchild=blog.get_children().count())
    _analyze()
    return time.monotonic() - started


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would give a real site after a while."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def tree_problems() -> dict[str, int]:
    """treebeard's own consistency check (what ``fixtree`` reports): counts per problem."""
    from wagtail.models import Page

    names = ("bad_alpha", "bad_path", "orphans", "bad_depth", "bad_numchild")
    return {name: len(found) for name, found in zip(names, Page.find_problems(), strict=True)}


def grow(total: int) -> dict:
    from cms.models import BlogIndexPage, BlogPostPage

    have = BlogPostPage.objects.count()
    seconds = add_posts(total - have) if total > have else 0.0
    newest = BlogPostPage.objects.order_by("-pk").first()
    return {
        "posts": BlogPostPage.objects.live().count(),
        "insert_s": seconds,
        "tree": tree_problems(),
        "sample": {"id": newest.pk, "url": newest.get_url(), "title": newest.title},
        "blog_url": BlogIndexPage.objects.get().get_url(),
    }


def setup(total: int) -> dict:
    _django()
    from django.core.management import call_command

    call_command("load_seed_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return grow(total)


def time_sweep() -> dict:
    """Milliseconds per ``scheduler_tasks.sweep()``: median and p95 of SWEEPS runs."""
    from publishing.scheduler import engine as scheduler
    from publishing.scheduler import tasks as scheduler_tasks

    for _ in range(3):
        result = scheduler_tasks.sweep()
    samples = []
    for _ in range(SWEEPS):
        started = time.perf_counter()
        result = scheduler_tasks.sweep()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[max(0, round(0.95 * len(samples)) - 1)],
        # The two queries alone, so a slow sweep says whether the database is the cause.
        "revisions_ms": _median_ms(lambda: list(scheduler.due_revisions(_until()))),
        "expiries_ms": _median_ms(lambda: list(scheduler.due_expiries(_until()))),
        "last": result,
    }


def _until():
    from django.utils import timezone

    from publishing.scheduler import engine as scheduler

    return timezone.now() + scheduler.HORIZON


def _median_ms(function) -> float:
    samples = []
    for _ in range(SWEEPS):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def schedule(count: int) -> dict:
    """``count`` scheduled updates and ``count`` future expiries on distinct live posts.

    Revisions are what "publish with a go-live date" leaves: a revision whose content
    carries ``go_live_at`` and whose ``approved_go_live_at`` is set, the page still live
    with unpublished changes. Both start an hour from now and spread over a week, so the
    sweep's 60-second horizon holds none of them and the timing is the queries' alone.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Page, Revision

    from cms.models import BlogPostPage

    started = time.monotonic()
    now = timezone.now()
    first = now + dt.timedelta(hours=1)
    step = dt.timedelta(days=7) / count
    pks = list(BlogPostPage.objects.live().order_by("pk").values_list("pk", flat=True))
    scheduled, expiring = pks[1 : 2 * count : 2], pks[2 : 2 * count + 1 : 2]
    template = BlogPostPage.objects.get(pk=scheduled[0]).serializable_data()
    page_type = ContentType.objects.get_for_model(Page)
    post_type = ContentType.objects.get_for_model(BlogPostPage)
    rev_ids = _reserve_ids(Revision, len(scheduled))
    revisions = []
    for i, (pk, rev_id) in enumerate(zip(scheduled, rev_ids, strict=True)):
        when = first + i * step
        content = {
            **template,
            "pk": pk,
            "title": f"Scale post {pk} (update)",
            "go_live_at": when.isoformat(),
        }
        revisions.append(
            Revision(
                id=rev_id,
                content_type=post_type,
                base_content_type=page_type,
                object_id=str(pk),
                created_at=now,
                object_str=content["title"],
                content=content,
                approved_go_live_at=when,
            )
        )
    fields = list(Revision._meta.concrete_fields)
    with transaction.atomic():
        _copy(Revision, fields, revisions)
        # One UPDATE per 1,000 pages: latest_revision has to point at each page's own row.
        from django.db import connection

        with connection.cursor() as cursor:
            pairs = [(rev.id, int(rev.object_id)) for rev in revisions]
            for at in range(0, len(pairs), 1000):
                chunk = pairs[at : at + 1000]
                cursor.execute(
                    "UPDATE wagtailcore_page AS p SET latest_revision_id = v.rev,"
                    " has_unpublished_changes = true"
                    " FROM (SELECT unnest(%s::int[]) AS rev, unnest(%s::int[]) AS page) AS v"
                    " WHERE p.id = v.page",
                    [[r for r, _ in chunk], [p for _, p in chunk]],
                )
            cursor.execute(
                "UPDATE wagtailcore_page AS p SET expire_at = v.at"
                " FROM (SELECT unnest(%s::int[]) AS page, unnest(%s::timestamptz[]) AS at) AS v"
                " WHERE p.id = v.page",
                [expiring, [first + i * step for i in range(len(expiring))]],
            )
    _analyze()
    return {
        "scheduled": Revision.objects.filter(approved_go_live_at__isnull=False).count(),
        "expiring": Page.objects.filter(live=True, expire_at__isnull=False).count(),
        "seconds": time.monotonic() - started,
    }


def explain() -> dict:
    """The sweep's (and the API's expiry filter's) queries, planned and run by PostgreSQL."""
    from django.utils import timezone
    from wagtail.models import Page

    from publishing.models import ScheduleIssue
    from publishing.scheduler import engine as scheduler

    until = timezone.now() + scheduler.HORIZON
    queries = {
        "due_revisions": scheduler.due_revisions(until),
        "due_expiries (Page)": scheduler.expiring(Page, until),
        "blocked_issue_keys": ScheduleIssue.objects.filter(resolved=False).values_list(
            "action", "object_id", "revision_id"
        ),
        "API v2 overdue ids": Page.objects.live()
        .filter(expire_at__lte=timezone.now())
        .values_list("pk", flat=True),
    }
    plans = {}
    for name, queryset in queries.items():
        text = queryset.explain(analyze=True)
        plans[name] = {"plan": text, "scans": _scans(text), "ms": _execution_ms(text)}
    return plans


def _scans(plan: str) -> list[str]:
    found = []
    for line in plan.splitlines():
        stripped = line.strip().removeprefix("->").strip()
        for kind in ("Index Only Scan", "Index Scan", "Bitmap Index Scan", "Seq Scan"):
            if stripped.startswith(kind):
                found.append(stripped.split("  (")[0])
                break
    return found


def _execution_ms(plan: str) -> float:
    for line in plan.splitlines():
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return float("nan")


def index(action: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if action == "drop":
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
        else:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON wagtailcore_page (expire_at)"
                " WHERE expire_at IS NOT NULL"
            )
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [INDEX_NAME])
        exists = cursor.fetchone()[0] == 1
    _analyze()
    return {"exists": exists}


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "setup":
        result = setup(int(args[0]))
    else:
        _django()
        if command == "grow":
            result = grow(int(args[0]))
        elif command == "sweep":
            result = time_sweep()
        elif command == "schedule":
            result = schedule(int(args[0]))
        elif command == "explain":
            result = explain()
        elif command == "index":
            result = index(args[0])
        else:
            print(f"unknown command {command}", file=sys.stderr)
            return 2
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
