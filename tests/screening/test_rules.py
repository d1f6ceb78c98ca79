"""The clinical rule, stated once in screening.rules: the highest urgency picked decides."""

import itertools

import pytest

from screening.blocks import CARE_TEAM, DOCTOR, EMERGENCY, NONE
from screening.rules import InvalidAnswers, evaluate, highest_urgency

ITEMS = {"a": DOCTOR, "b": DOCTOR, "c": CARE_TEAM, "d": EMERGENCY}


def test_none_of_these_goes_on_to_the_program():
    assert evaluate(ITEMS, ["none"]) == NONE


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["a"], DOCTOR),
        (["a", "b"], DOCTOR),
        (["c"], CARE_TEAM),
        (["a", "c"], CARE_TEAM),
        (["d"], EMERGENCY),
        (["a", "d"], EMERGENCY),
        (["c", "d"], EMERGENCY),
        (["d", "c", "b", "a"], EMERGENCY),
    ],
)
def test_highest_urgency_among_picked_items_wins(answers, expected):
    assert evaluate(ITEMS, answers) == expected


def test_every_combination_matches_the_maximum_rank():
    rank = {DOCTOR: 0, CARE_TEAM: 1, EMERGENCY: 2}
    for size in range(1, len(ITEMS) + 1):
        for combo in itertools.combinations(ITEMS, size):
            for order in (combo, tuple(reversed(combo))):
                expected = max((ITEMS[i] for i in combo), key=rank.__getitem__)
                assert evaluate(ITEMS, list(order)) == expected, order


def test_repeated_ids_count_once():
    assert evaluate(ITEMS, ["a", "a", "a"]) == DOCTOR


def test_nothing_picked_says_what_to_do():
    with pytest.raises(InvalidAnswers) as exc:
        evaluate(ITEMS, [])
    assert exc.value.code == "no_answer"
    assert "None of these" in exc.value.message and "Select" in exc.value.message


@pytest.mark.parametrize("answers", [["none", "a"], ["d", "none"], ["none", "none", "c"]])
def test_none_is_exclusive(answers):
    with pytest.raises(InvalidAnswers) as exc:
        evaluate(ITEMS, answers)
    assert exc.value.code == "none_with_items"
    assert "cannot be selected together" in exc.value.message


def test_none_with_an_unknown_id_is_still_the_exclusivity_error():
    with pytest.raises(InvalidAnswers) as exc:
        evaluate(ITEMS, ["none", "zzz"])
    assert exc.value.code == "none_with_items"


def test_unknown_ids_are_named():
    with pytest.raises(InvalidAnswers) as exc:
        evaluate(ITEMS, ["a", "x", "y", "x"])
    assert exc.value.code == "unknown_items"
    assert exc.value.unknown == ["x", "y"]


def test_an_unknown_urgency_is_treated_as_a_red_flag_not_as_none():
    assert highest_urgency(["something-new"]) == DOCTOR
    assert highest_urgency(["something-new", CARE_TEAM]) == CARE_TEAM
    assert highest_urgency([]) == NONE
    assert evaluate({"a": "legacy"}, ["a"]) == DOCTOR
