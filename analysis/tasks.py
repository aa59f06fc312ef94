from celery import shared_task

from analysis import services
from skincare.storage import StorageUnavailable


# A store outage puts the analysis back to pending (services.run_analysis) and the
# task retries with backoff; past the retries the re-drive command takes it up.
@shared_task(
    acks_late=True,
    name="analysis.run_analysis",
    autoretry_for=(StorageUnavailable,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
)
def run_analysis_task(analysis_id: str) -> str | None:
    """Run one analysis; safe to deliver twice (a finished one is left alone)."""
    analysis = services.run_analysis(analysis_id=analysis_id)
    return None if analysis is None else analysis.status
