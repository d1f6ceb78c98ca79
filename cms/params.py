"""One way to read a number from a query string or a URL path.

``str.isdigit()`` and ``int()`` accept far more than "0-9": ``"²".isdigit()`` is true and
``int("²")`` raises, ``int("٣")`` is 3, and forty nines overflow the database's integer
column. Each of those was a 500 somewhere. Every number a client sends is read here
instead: ASCII digits only, within bounds, or an :class:`InvalidNumber` whose message
names the parameter and can be shown to the client as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

#: The largest value of PostgreSQL's ``integer``, the type of Wagtail's primary keys:
#: a larger id can match nothing, and some drivers raise on it instead of saying so.
MAX_ID = 2**31 - 1


class InvalidNumber(ValueError):
    """A client sent something that is not a number we accept; ``str()`` says why."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def parse_int(value: str | None, *, name: str, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """``value`` as an int if it is written in ASCII digits and lies in [minimum, maximum].

    ``name`` is the parameter as the client spelled it, for the message. The length is
    checked before ``int()`` runs, so no input is ever converted digit by digit at length.
    """
    if minimum < 0 or maximum < minimum:
        raise ValueError("parse_int reads non-negative ranges only")
    if not value or not value.isascii() or not value.isdigit():
        raise InvalidNumber(name, _too_small(name, minimum))
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise InvalidNumber(
            name,
            _("“%(name)s” must be at most %(maximum)d.") % {"name": name, "maximum": maximum},
        )
    number = int(digits)
    if number < minimum:
        raise InvalidNumber(name, _too_small(name, minimum))
    return number


def _too_small(name: str, minimum: int) -> str:
    return _("“%(name)s” must be a whole number of %(minimum)d or more.") % {
        "name": name,
        "minimum": minimum,
    }


def valid_ids(values: Iterable[str | None]) -> set[int]:
    """The values that ``parse_int`` accepts as ids, as ints; the rest left out.

    For ids read from stored text (rich text attributes, the reference index), where a
    bad one means "refers to nothing", not a client error.
    """
    found = set()
    for value in values:
        try:
            found.add(parse_int(value, name="id", minimum=1))
        except InvalidNumber:
            continue
    return found
