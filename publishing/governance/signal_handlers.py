"""Wiring of clinical governance, called from ``PublishingConfig.ready()``."""

from cms import publish_gate
from publishing.governance import gate, review
from publishing.models.governance import ClinicalReviewTask


def register_signal_handlers() -> None:
    """Give ``cms``'s publish gate its rule and its workflow chooser (no signals needed:
    the gate is asked on every publish path, before anything changes)."""
    publish_gate.register_gate(gate.gate)
    publish_gate.register_workflow_chooser(gate.clinical_workflow)
    ClinicalReviewTask.record_approval = staticmethod(review.record_approval)
