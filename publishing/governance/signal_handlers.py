"""Wiring of clinical governance, called from ``PublishingConfig.ready()``."""

from cms import publish_gate
from cms.signals import seed_content_loading
from publishing.governance import gate, review, setup
from publishing.models.governance import ClinicalReviewTask


def register_signal_handlers() -> None:
    """Give ``cms``'s publish gate its rule and its workflow chooser (the gate is asked on
    every publish path, before anything changes), and the seed loader its set-up step."""
    publish_gate.register_gate(gate.gate)
    publish_gate.register_workflow_chooser(gate.clinical_workflow)
    ClinicalReviewTask.record_approval = staticmethod(review.record_approval)
    seed_content_loading.connect(on_seed_content_loading, dispatch_uid="publishing.governance")


def on_seed_content_loading(sender, **kwargs) -> int:
    """The seed loader makes sure the Clinical review set-up exists (see ``setup``)."""
    return setup.ensure_clinical_review()
