"""Settings for the feeds benchmark's server and helpers: the test settings plus a trivial view.

The trivial view is the same-server baseline the feed's throughput is compared with; it
lives only in the benchmark's URLconf, never in the product.
"""

from cms.settings.test import *  # noqa: F403
from cms.settings.test import LOGGING

ROOT_URLCONF = "benchmarks.feeds_urls"
LOGGING["root"]["level"] = "WARNING"
