"""The changes feed's URL; included by a string from ``cms/urls.py``."""

from django.urls import path

from . import views

app_name = "changes"

urlpatterns = [path("", views.changes_view, name="feed")]
