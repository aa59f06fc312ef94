"""Read queries of the analysis app, for its views and for other apps."""

from __future__ import annotations

from typing import Any

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


def build_progress(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-concern series from analyses ordered oldest first.

    Each point: id, created_at, scores ({concern: {score, band, ...}}), image (the
    engine's image stats or None). The latest change is judged against the engine's
    measured test-retest noise and the two photos' lighting.
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
        first = series[0][1]
        latest_point, latest = series[-1]
        noise = engine.retest_noise(concern)
        entry: dict[str, Any] = {
            "series": [
                {
                    "analysis_id": point["id"],
                    "created_at": point["created_at"],
                    "score": value["score"],
                    "band": value["band"],
                }
                for point, value in series
            ],
            "first": first["score"],
            "latest": latest["score"],
            "change_since_first": latest["score"] - first["score"],
            "change_since_previous": None,
            "latest_change": None,
            "retest_noise": noise,
        }
        if len(series) > 1:
            previous_point, previous = series[-2]
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
        .values_list("id", "created_at", "scores", "photo_result__image")
    )
    points = [
        {"id": pk, "created_at": created_at, "scores": scores, "image": image}
        for pk, created_at, scores, image in rows
    ]
    return {"analyses": len(points), "concerns": build_progress(points)}
