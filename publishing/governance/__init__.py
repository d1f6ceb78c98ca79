"""Clinical governance: sign-off that gates publishing, reviews that lapse visibly.

* ``policy``: which page types need a clinical review, for how long (a site setting).
* ``gate``: the rule "no revision of gated content goes live without an approved,
  unlapsed Clinical review of that exact revision", registered with ``cms.publish_gate``.
* ``review``: what an approval records (reviewer, dates) on the approved revision.
* ``workflow``: Wagtail's finish action, publishing the revision that was approved.
* ``lapse``: the scheduler's "next review due" claim, exactly once.
"""
