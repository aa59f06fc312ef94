from celery import shared_task

from analysis import services


@shared_task(acks_late=True, name="analysis.run_analysis")
def run_analysis_task(analysis_id: str) -> str | None:
    """Run one analysis; safe to deliver twice (a finished one is left alone)."""
    analysis = services.run_analysis(analysis_id=analysis_id)
    return None if analysis is None else analysis.status
