"""Read queries of the analysis app, for its views and for other apps."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
)

from analysis import engine
from analysis.models import Analysis


def analyses_for(*, user):
    """The user's analyses, newest first."""
    return Analysis.objects.filter(user=user).order_by("-created_at", "-id")


def latest_completed_analysis(*, user) -> Analysis | None:
    """The user's most recent completed analysis (photo and/or questionnaire)."""
    return (
        Analysis.objects.filter(user=user, status=Analysis.Status.COMPLETED)
        .order_by("-created_at", "-id")
        .first()
    )


def _lighting(a: dict | None, b: dict | None) -> bool | None:
    if not a or not b:
        return None
    try:
        return engine.lighting_comparable(a, b)
    except (ValueError, KeyError, TypeError):
        return None


def _noise_inputs(point: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """What the engine scales a photo's noise by: face size and the concern's
    confidence (either may be unknown on old analyses)."""
    image = point.get("image") or {}
    return {
        "face_width_px": image.get("face_width_px"),
        "confidence": value.get("confidence"),
    }


def build_progress(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-concern series from analyses ordered oldest first.

    Each point: id, created_at, engine_version, scores ({concern: {score, band,
    confidence, ...}}), image (the engine's image stats or None). Scores of different
    engine versions are never compared: first, the changes and the latest change are
    taken among the analyses of the latest one's engine version only. The latest
    change is judged against the engine's test-retest noise scaled by both photos'
    face size and confidence, and the two photos' lighting.
    """
    concerns: dict[str, Any] = {}
    for concern in engine.CONCERNS:
        series = [
            (point, point["scores"][concern])
            for point in points
            if concern in (point["scores"] or {})
        ]
        if not series:
            continue
        latest_point, latest = series[-1]
        version = latest_point.get("engine_version", "")
        comparable = [
            (point, value)
            for point, value in series
            if point.get("engine_version", "") == version
        ]
        first = comparable[0][1]
        compared = comparable[-2:]
        noise = engine.pair_noise(
            concern, [_noise_inputs(point, value) for point, value in compared]
        )
        entry: dict[str, Any] = {
            "series": [
                {
                    "analysis_id": point["id"],
                    "created_at": point["created_at"],
                    "engine_version": point.get("engine_version", ""),
                    "score": value["score"],
                    "band": value["band"],
                }
                for point, value in series
            ],
            "engine_version": version,
            "first": first["score"],
            "latest": latest["score"],
            "change_since_first": latest["score"] - first["score"],
            "change_since_previous": None,
            "latest_change": None,
            "retest_noise": noise,
        }
        if len(comparable) > 1:
            previous_point, previous = comparable[-2]
            change = latest["score"] - previous["score"]
            entry["change_since_previous"] = change
            entry["latest_change"] = {
                "change": change,
                "exceeds_noise": abs(change) > noise,
                "lighting_comparable": _lighting(
                    previous_point["image"], latest_point["image"]
                ),
            }
        concerns[concern] = entry
    return concerns


def progress_for(*, user) -> dict[str, Any]:
    """Progress of the user's completed photo analyses, per concern."""
    rows = (
        Analysis.objects.filter(user=user, status=Analysis.Status.COMPLETED)
        .exclude(scores={})
        .order_by("created_at", "id")
        .values_list(
            "id", "created_at", "engine_version", "scores", "photo_result__image"
        )
    )
    points = [
        {
            "id": pk,
            "created_at": created_at,
            "engine_version": version,
            "scores": scores,
            "image": image,
        }
        for pk, created_at, version, scores, image in rows
    ]
    return {"analyses": len(points), "concerns": build_progress(points)}


def completed_analysis(*, user, analysis_id) -> Analysis | None:
    """One of the user's completed analyses by id; None if not theirs or not done."""
    return Analysis.objects.filter(
        pk=analysis_id, user=user, status=Analysis.Status.COMPLETED
    ).first()


# ------------------------------------------------------------------------------
# For other apps (consultations' sharing)
# ------------------------------------------------------------------------------
def completed_analyses_among(*, user, ids) -> list[Analysis]:
    """Those of `ids` that are the user's own completed analyses."""
    return list(
        Analysis.objects.filter(pk__in=ids, user=user, status=Analysis.Status.COMPLETED)
    )


def analyses_by_ids(*, ids) -> list[Analysis]:
    """The analyses with these ids, oldest first, with what a reader displays."""
    return list(
        Analysis.objects.filter(pk__in=ids)
        .only("id", "photo", "skin_type", "scores", "created_at")
        .order_by("created_at", "id")
    )


def analyses_without_photo():
    """Analyses with no stored photo (questionnaire only, or the photo deleted)."""
    return Analysis.objects.filter(photo="")


# ------------------------------------------------------------------------------
# Operations (skincare/metrics.py)
# ------------------------------------------------------------------------------
def count_by_status() -> dict[str, int]:
    """Stored analyses per status, every status present."""
    counts = dict.fromkeys(Analysis.Status.values, 0)
    counts.update(
        Analysis.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return counts


def finished_since(since) -> dict[str, int]:
    """Analyses completed or failed since `since`, per status."""
    finished = dict.fromkeys((Analysis.Status.COMPLETED, Analysis.Status.FAILED), 0)
    finished.update(
        Analysis.objects.order_by()
        .filter(completed_at__gte=since, status__in=list(finished))
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return finished


def engine_durations_since(since) -> dict[str, float]:
    """Mean and longest engine run (started to completed) since `since`, seconds."""
    duration = ExpressionWrapper(
        F("completed_at") - F("started_at"), output_field=DurationField()
    )
    stats = (
        Analysis.objects.order_by()
        .filter(
            status=Analysis.Status.COMPLETED,
            completed_at__gte=since,
            started_at__isnull=False,
        )
        .annotate(duration=duration)
        .aggregate(avg=Avg("duration"), max=Max("duration"))
    )
    return {k: v.total_seconds() if v else 0.0 for k, v in stats.items()}
