"""Health checks other apps add to /healthz, so cms never has to import them.

A check returns a dict with at least ``ok``; anything else in it is reported as is.
"""

from collections.abc import Callable

#: Where beat records its last tick (``publishing.tasks.beat_tick``); /healthz reads it.
BEAT_TICK_CACHE_KEY = "publishing:beat:last_tick"

HealthCheck = Callable[[], dict]
_checks: dict[str, HealthCheck] = {}


def register(name: str) -> Callable[[HealthCheck], HealthCheck]:
    def decorator(check: HealthCheck) -> HealthCheck:
        _checks[name] = check
        return check

    return decorator


def registered() -> dict[str, HealthCheck]:
    return dict(_checks)
