"""Questionnaire validation and fusion with photo results."""

from __future__ import annotations

import json

import pytest

from analysis.engine import CONCERNS
from analysis.questionnaire import QUESTIONNAIRE, AnswerError, fuse, validate_answers

OILY_SENSITIVE = {
    "after_wash": "shiny_everywhere",
    "blotting": "several_times",
    "new_products": "often",
    "flushing": "often",
    "marks_after_spots": "no",
    "dark_patches": "none",
    "resting_lines": "none",
    "sun_hours": "under_2h",
    "smoking": "never",
    "sun_reaction": "II",
    "concerns": ["redness", "shine"],
}


def photo_with(scores: dict[str, int], shine_regions: dict[str, float] | None = None):
    concerns = {c: {"score": scores.get(c, 0), "regions": {}} for c in CONCERNS}
    if shine_regions:
        concerns["shine"]["regions"] = {
            k: {"value": v} for k, v in shine_regions.items()
        }
    return {"status": "ok", "concerns": concerns}


def test_questionnaire_is_json_and_covers_the_four_axes_and_extras():
    data = json.loads(json.dumps(QUESTIONNAIRE))
    axes = {q["axis"] for q in data["questions"]}
    assert axes == {
        "oily_dry",
        "sensitive_resistant",
        "pigmented_non_pigmented",
        "wrinkle_tight",
        "phototype",
        "concerns",
    }
    concerns = next(q for q in data["questions"] if q["id"] == "concerns")
    assert [a["value"] for a in concerns["answers"]] == list(CONCERNS)


@pytest.mark.parametrize(
    ("answers", "field", "code"),
    [
        ({"nope": "x"}, "nope", "unknown_question"),
        ({"after_wash": "wet"}, "after_wash", "invalid_choice"),
        ({"after_wash": 3}, "after_wash", "invalid_choice"),
        ({"concerns": "redness"}, "concerns", "invalid_type"),
        ({"concerns": ["acne_scars"]}, "concerns", "invalid_choice"),
        ({"concerns": ["shine", "shine"]}, "concerns", "duplicate_choice"),
        ({"sun_reaction": "VII"}, "sun_reaction", "invalid_choice"),
    ],
)
def test_bad_answers_name_field_and_code(answers, field, code):
    with pytest.raises(AnswerError) as info:
        validate_answers(answers)
    assert (info.value.field, info.value.code) == (field, code)
    assert isinstance(info.value, ValueError)


def test_questionnaire_alone_gives_profile_and_sources():
    fused = fuse(None, OILY_SENSITIVE)
    assert fused["skin_type"] == "oily"
    assert fused["sensitive"] is True
    assert fused["profile"] == "OSNT"
    assert fused["phototype"] == "II"
    assert fused["concerns"] == ["redness", "shine"]
    assert {a["source"] for a in fused["axes"].values()} == {"questionnaire"}


def test_photo_alone_detects_combination_from_t_zone_shine():
    photo = photo_with(
        {"shine": 40, "redness": 10},
        {
            "forehead": 0.08,
            "nose_hull": 0.12,
            "chin": 0.05,
            "cheek_right": 0.0,
            "cheek_left": 0.01,
        },
    )
    fused = fuse(photo, None)
    assert fused["skin_type"] == "combination"
    assert fused["skin_type_source"] == "photo"
    assert fused["profile"][1] == "R"


def test_both_sources_are_marked_both():
    fused = fuse(photo_with({"shine": 60, "redness": 70}), OILY_SENSITIVE)
    assert fused["skin_type_source"] == "both"
    assert fused["axes"]["sensitive_resistant"]["source"] == "both"
    assert fused["phototype_source"] == "questionnaire"


def test_failed_photo_is_ignored():
    fused = fuse({"status": "failed", "concerns": {}}, None)
    assert fused["skin_type"] is None
    assert fused["profile"] == "????"


@pytest.mark.parametrize(("redness", "letter"), [(38, "R"), (45, "R"), (75, "S")])
def test_typical_redness_does_not_make_skin_sensitive(redness, letter):
    """Engine 2 scores ordinary faces of every tone around 30-64 on redness."""
    fused = fuse(photo_with({"redness": redness}), None)

    assert fused["axes"]["sensitive_resistant"]["letter"] == letter
