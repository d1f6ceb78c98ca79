"""Seed the screener and the program page when the site's seed content is loaded."""

import json
from pathlib import Path

from django.dispatch import receiver

from cms.management.commands.load_seed_content import get_or_create_seed_page
from cms.models import HomePage
from cms.signals import seed_content_loading

SEED_FILE = Path(__file__).resolve().parent / "fixtures" / "seed_screener.json"


@receiver(seed_content_loading)
def create_seed_screener(sender, home: HomePage, **kwargs) -> int:
    from .models import ProgramPage, ScreenerPage

    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    program, program_created = get_or_create_seed_page(home, ProgramPage, seed["program"])
    data = dict(seed["screener"])
    data["items"] = json.dumps(
        [{"type": "item", "value": {"text": text, "urgency": "doctor"}} for text in data["items"]]
    )
    data["program_page"] = program
    _screener, screener_created = get_or_create_seed_page(home, ScreenerPage, data)
    return int(program_created) + int(screener_created)
