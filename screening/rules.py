"""How a set of answers becomes an outcome. Pure functions: no database, no request, no logging.

Kept apart from the views so the clinical rule is stated once and tested exhaustively, and
so nothing here can leak an answer. The rule: the highest of the urgencies of the picked items
and of every combination rule whose items were all picked decides. Both the evaluate API
(``screening.api``) and the HTML form (``screening.forms``) call :func:`evaluate`, and
nothing else decides an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .blocks import CARE_TEAM, DOCTOR, EMERGENCY, NONE

#: Lowest to highest: an outcome later in this list overrides every earlier one.
URGENCY_ORDER: tuple[str, ...] = (DOCTOR, CARE_TEAM, EMERGENCY)
OUTCOMES: tuple[str, ...] = (NONE, *URGENCY_ORDER)
#: The answer that stands for "None of these"; item ids are UUIDs, so it never collides.
NONE_ANSWER = NONE


@dataclass(frozen=True)
class CombinationRule:
    """Item ids that, all picked together, call for ``urgency``."""

    items: frozenset[str]
    urgency: str


@dataclass(frozen=True)
class ScreenerRules:
    """Everything :func:`evaluate` needs about one screener, read once from its page."""

    #: Each item id (the stable answer id) and its own urgency, in page order.
    items: Mapping[str, str]
    combinations: tuple[CombinationRule, ...] = field(default=())


class InvalidAnswers(ValueError):
    """Answers that cannot be evaluated: ``code`` is for API clients, ``message`` for people."""

    def __init__(self, code: str, message: str, unknown: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.unknown = list(unknown)


def highest_urgency(urgencies: Iterable[str]) -> str:
    """The most urgent of ``urgencies``; ``none`` when there are none.

    An urgency this code does not know (an old revision, a typo in imported data) counts as
    the default "talk to your doctor", never as "no red flag": a red flag must not vanish.
    """
    rank = -1
    for urgency in urgencies:
        rank = max(rank, URGENCY_ORDER.index(urgency) if urgency in URGENCY_ORDER else 0)
    return NONE if rank < 0 else URGENCY_ORDER[rank]


def evaluate(screener: ScreenerRules | Mapping[str, str], answers: Sequence[str]) -> str:
    """The outcome for ``answers`` (item ids, or just ``none``) on a screener.

    ``screener`` holds each item's urgency and the combination rules (a bare mapping of item
    id to urgency means "no combinations"). Raises :class:`InvalidAnswers` for anything a
    person must correct: nothing picked, "None of these" together with an item, or an id that
    is not on this screener. Monotonic by construction: picking more can only add urgencies
    to the maximum (a matched combination stays matched), never remove one.
    """
    if not isinstance(screener, ScreenerRules):
        screener = ScreenerRules(items=dict(screener))
    item_urgencies = screener.items
    picked = list(dict.fromkeys(answers))  # repeated ids count once
    if not picked:
        raise InvalidAnswers(
            "no_answer",
            str(_("Select at least one answer. If you have none of them, select “None of these”.")),
        )
    if NONE_ANSWER in picked:
        if len(picked) > 1:
            raise InvalidAnswers(
                "none_with_items",
                str(
                    _(
                        "“None of these” cannot be selected together with other "
                        "answers. Select either “None of these” or the ones you have."
                    )
                ),
            )
        return NONE
    unknown = [answer for answer in picked if answer not in item_urgencies]
    if unknown:
        raise InvalidAnswers(
            "unknown_items",
            str(_("Some answers are not items of this screener.")),
            unknown=unknown,
        )
    chosen = set(picked)
    urgencies = [item_urgencies[answer] for answer in picked]
    urgencies += [
        rule.urgency for rule in screener.combinations if rule.items and rule.items <= chosen
    ]
    return highest_urgency(urgencies)
