"""What operators and admin users can learn about a reader's outcome: no sizes, no small counts."""

import datetime as dt
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from django.utils.html import strip_tags
from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

from screening.models import ScreeningOutcomeCount

ROOT = Path(__file__).resolve().parents[2]
SIZE_ATOMS = ("%(b)s", "%(B)s", "{content-length}o")


def gunicorn_config(argv: list[str]) -> Config:
    """The configuration gunicorn itself builds from a command line."""
    assert argv[0] == "gunicorn"
    config = Config()
    args = config.parser().parse_args(argv[1:])
    for key, value in vars(args).items():
        if value is not None and key in config.settings:
            config.set(key, value)
    return config


def compose_web_command() -> list[str]:
    """The web service's command, with ``${VAR:-default}`` as compose would fill it in."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["web"]["command"]
    return [re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", part) for part in command]


def dockerfile_command() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[4:])
    pytest.fail("no CMD in the Dockerfile")


def render(config: Config, size: int) -> str:
    """One access-log line as gunicorn would write it for a response of ``size`` bytes."""
    atoms = {
        "h": "203.0.113.9",
        "l": "-",
        "u": "-",
        "t": "[29/Nov/2026:18:00:00 +0000]",
        "r": "POST /back-pain-screener/ HTTP/1.1",
        "s": "200",
        "b": str(size),
        "B": str(size),
        "f": "-",
        "a": "Mozilla/5.0",
    }
    return config.access_log_format % SafeAtoms(atoms)


def test_gunicorn_default_format_has_the_size_so_the_check_can_fail():
    assert "%(b)s" in Config().access_log_format


@pytest.mark.parametrize("where", ["docker-compose.yml", "Dockerfile"])
def test_production_access_log_has_no_response_size(where):
    argv = compose_web_command() if where == "docker-compose.yml" else dockerfile_command()
    config = gunicorn_config(argv)
    assert not any(atom in config.access_log_format for atom in SIZE_ATOMS), shlex.join(argv)
    # Two outcome pages of different lengths give the same log line.
    assert render(config, 5123) == render(config, 6789)
    assert "POST /back-pain-screener/" in render(config, 5123)


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_listing_and_export_show_counts_under_five_as_less_than_five(screener, admin_client):
    day = dt.date(2026, 3, 4)
    for outcome, count in (("emergency", 1), ("care_team", 4), ("doctor", 5), ("none", 12)):
        ScreeningOutcomeCount.objects.create(
            screener=screener, outcome=outcome, date=day, count=count
        )
    index = reverse("screening_outcome_counts:index")
    listing = " ".join(strip_tags(admin_client.get(index).content.decode()).split())
    listing = listing.replace("&lt;", "<")
    assert "Emergency: call 911 or go to the emergency room now <5" in listing
    assert "Contact your care team today <5" in listing
    assert "Talk to your doctor first 5" in listing
    assert "None of these 12" in listing
    for fmt in ("csv", "xlsx"):
        response = admin_client.get(index, {"export": fmt})
        assert response.status_code == 200
    export = b"".join(admin_client.get(index, {"export": "csv"}).streaming_content).decode()
    rows = {line.split(",")[3]: line.split(",")[4] for line in export.splitlines()[1:]}
    assert rows == {"emergency": "<5", "care_team": "<5", "doctor": "5", "none": "12"}
