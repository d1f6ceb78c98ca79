"""The reader's form: one checkbox per red-flag item and an exclusive "None of these"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from .rules import NONE_ANSWER, InvalidAnswers, evaluate

if TYPE_CHECKING:
    from .models import ScreenerPage


class ScreenerForm(forms.Form):
    """Validates with the same rules as the API, so both say the same thing to a person."""

    answers = forms.MultipleChoiceField(
        required=False,  # the rules say what to do when nothing is picked, in plain words
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            # An item an editor removed while the reader had the form open.
            "invalid_choice": _(
                "This screener has changed since you opened it. Please check your answers "
                "and submit again."
            ),
        },
    )

    def __init__(self, *args, page: ScreenerPage, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.page = page
        self.rules = page.screening_rules()
        self.fields["answers"].label = page.question
        self.fields["answers"].choices = [
            *((item.id, item.value["text"]) for item in page.items),
            (NONE_ANSWER, _("None of these")),
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if "answers" in self.errors:
            return cleaned
        try:
            cleaned["outcome"] = evaluate(self.rules, cleaned.get("answers", []))
        except InvalidAnswers as exc:
            self.add_error("answers", exc.message)
        return cleaned

    def selected(self) -> set[str]:
        """What the reader ticked, to show it again beside an error (never stored)."""
        if not self.is_bound:
            return set()
        return set(self.data.getlist("answers")) if hasattr(self.data, "getlist") else set()
