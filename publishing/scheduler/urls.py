"""Public URL of the scheduler: each editor's private calendar feed (the secret opens it).

Included from cms.urls as ``calendar/`` by a string include (cms never imports publishing).
"""

from django.urls import path

from publishing.scheduler.admin_views import calendar_ics

urlpatterns = [
    path("<str:token>.ics", calendar_ics, name="publishing_calendar_ics"),
]
