"""Our own short skin questionnaire and its fusion with a photo analysis (no Django).

Four axes, each scored from -1 to 1: oily (O) vs dry (D), sensitive (S) vs resistant
(R), pigmented (P) vs non-pigmented (N), wrinkle-prone (W) vs tight (T). Questions
are written for this project; they are not taken from any published instrument.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.engine.scoring import CONCERNS

AXES = {
    "oily_dry": ("O", "D"),
    "sensitive_resistant": ("S", "R"),
    "pigmented_non_pigmented": ("P", "N"),
    "wrinkle_tight": ("W", "T"),
}
PHOTOTYPES = ("I", "II", "III", "IV", "V", "VI")


def _question(
    qid: str, axis: str, text: str, answers: list[tuple[str, str, float]]
) -> dict[str, Any]:
    return {
        "id": qid,
        "axis": axis,
        "kind": "single",
        "text": text,
        "answers": [{"value": v, "text": t, "weight": w} for v, t, w in answers],
    }


QUESTIONNAIRE: dict[str, Any] = {
    "version": 1,
    "questions": [
        _question(
            "after_wash",
            "oily_dry",
            "Three hours after washing your face, "
            "with nothing applied, how does it feel?",
            [
                ("tight_flaky", "Tight, maybe flaky", -2),
                ("a_little_tight", "A little tight", -1),
                ("comfortable", "Comfortable", 0),
                ("shiny_t_zone", "Shiny on the forehead and nose only", 1),
                ("shiny_everywhere", "Shiny almost everywhere", 2),
            ],
        ),
        _question(
            "blotting",
            "oily_dry",
            "During a normal day, how often do you want to blot or powder shine away?",
            [
                ("never", "Never", -1),
                ("rarely", "Once in a while", 0),
                ("daily", "About once a day", 1),
                ("several_times", "Several times a day", 2),
            ],
        ),
        _question(
            "cheeks_bare",
            "oily_dry",
            "Without moisturiser, how do your cheeks feel by evening?",
            [
                ("rough", "Rough or flaking", -2),
                ("dry", "Somewhat dry", -1),
                ("fine", "Fine", 0),
                ("greasy", "Greasy", 1),
            ],
        ),
        _question(
            "new_products",
            "sensitive_resistant",
            "When you try a new "
            "cream or cleanser, does your skin sting, itch or turn red?",
            [
                ("often", "Often", 2),
                ("sometimes", "Sometimes", 1),
                ("rarely", "Rarely", 0),
                ("never", "Never", -1),
            ],
        ),
        _question(
            "flushing",
            "sensitive_resistant",
            "Does your face flush easily with heat, exercise, spicy food or alcohol?",
            [
                ("often", "Often", 2),
                ("sometimes", "Sometimes", 1),
                ("no", "Not really", -1),
            ],
        ),
        _question(
            "marks_after_spots",
            "pigmented_non_pigmented",
            "When a spot, scratch or insect bite heals, does it leave a darker mark?",
            [
                ("weeks", "Yes, for weeks or longer", 2),
                ("briefly", "Yes, briefly", 1),
                ("no", "No", -1),
            ],
        ),
        _question(
            "dark_patches",
            "pigmented_non_pigmented",
            "Do you have "
            "freckles, sun spots or patches darker than the rest of your "
            "face?",
            [
                ("many", "Many", 2),
                ("some", "A few", 1),
                ("none", "None", -1),
            ],
        ),
        _question(
            "resting_lines",
            "wrinkle_tight",
            "With your face relaxed, not smiling or frowning, can you see lines?",
            [
                ("several", "Several", 2),
                ("a_few", "A few fine ones", 1),
                ("none", "None", -1),
            ],
        ),
        _question(
            "sun_hours",
            "wrinkle_tight",
            "In a typical week, how long is your face in the sun without sunscreen?",
            [
                ("over_7h", "More than 7 hours", 2),
                ("2_to_7h", "2 to 7 hours", 1),
                ("under_2h", "Less than 2 hours", 0),
            ],
        ),
        _question(
            "smoking",
            "wrinkle_tight",
            "Do you smoke, or did you smoke for a year or more?",
            [
                ("now", "I smoke now", 2),
                ("past", "I used to", 1),
                ("never", "Never", 0),
            ],
        ),
        {
            "id": "sun_reaction",
            "axis": "phototype",
            "kind": "single",
            "text": "After half an hour of midday summer sun without protection, "
            "what usually happens to your skin?",
            "answers": [
                {"value": "I", "text": "It always burns and never tans"},
                {"value": "II", "text": "It burns easily and tans a little"},
                {"value": "III", "text": "It sometimes burns, then tans gradually"},
                {"value": "IV", "text": "It rarely burns and tans easily"},
                {"value": "V", "text": "It very rarely burns and tans deeply"},
                {"value": "VI", "text": "It never burns; my skin is deeply dark"},
            ],
        },
        {
            "id": "concerns",
            "axis": "concerns",
            "kind": "multiple",
            "text": "Which of these would you like to work on?",
            "answers": [
                {"value": key, "text": key.replace("_", " ").capitalize()}
                for key in CONCERNS
            ],
        },
    ],
}
_BY_ID = {q["id"]: q for q in QUESTIONNAIRE["questions"]}


class AnswerError(ValueError):
    """A questionnaire answer is invalid; `field` names it, `code` says why."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def validate_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return a clean copy of the answers or raise AnswerError (unanswered is fine)."""
    if not isinstance(answers, Mapping):
        raise AnswerError("answers", "invalid_type", "Answers must be an object.")
    clean: dict[str, Any] = {}
    for qid, value in answers.items():
        question = _BY_ID.get(qid)
        if question is None:
            raise AnswerError(qid, "unknown_question", f"No question {qid!r}.")
        allowed = [answer["value"] for answer in question["answers"]]
        if question["kind"] == "multiple":
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise AnswerError(qid, "invalid_type", "Expected a list of choices.")
            unknown = [v for v in value if v not in allowed]
            if unknown:
                raise AnswerError(qid, "invalid_choice", f"Unknown: {unknown}.")
            if len(set(value)) != len(value):
                raise AnswerError(qid, "duplicate_choice", "A choice is repeated.")
            clean[qid] = list(value)
        elif not isinstance(value, str) or value not in allowed:
            raise AnswerError(qid, "invalid_choice", f"Choose one of {allowed}.")
        else:
            clean[qid] = value
    return clean


def questionnaire_axes(answers: Mapping[str, Any]) -> dict[str, float]:
    """Axis value in [-1, 1] per axis that has at least one answer."""
    totals: dict[str, list[float]] = {}
    for qid, value in answers.items():
        question = _BY_ID[qid]
        if question["axis"] not in AXES:
            continue
        weights = {a["value"]: a["weight"] for a in question["answers"]}
        totals.setdefault(question["axis"], []).append(weights[value] / 2.0)
    return {axis: sum(v) / len(v) for axis, v in totals.items()}


def _photo_score(photo: Mapping[str, Any], concern: str) -> float | None:
    result = photo.get("concerns", {}).get(concern)
    return None if result is None else float(result["score"])


# Score at which a photo leans neither way. Redness (engine 2: a haemoglobin index
# relative to the person's melanin) sits at 30-64 on ordinary faces of every skin tone
# (quartiles in analysis/engine/EVALUATION.md), so only redder than usual leans
# sensitive.
PHOTO_AXIS_CENTRES = {"redness": 50.0}


def photo_axes(photo: Mapping[str, Any]) -> dict[str, float]:
    """Axis values in [-1, 1] read from a photo's concern scores.

    A photo shows oil, redness, spots and lines; it cannot show dryness, resistance or
    tightness, so photo values lean at most mildly (-0.5) to the second letter.
    """
    mapping = {
        "oily_dry": "shine",
        "sensitive_resistant": "redness",
        "pigmented_non_pigmented": "pigmentation",
        "wrinkle_tight": "lines",
    }
    axes = {}
    for axis, concern in mapping.items():
        score = _photo_score(photo, concern)
        if score is not None:
            centre = PHOTO_AXIS_CENTRES.get(concern, 25.0)
            axes[axis] = max(-0.5, min(1.0, (score - centre) / 40.0))
    return axes


def _mean_value(regions: Mapping[str, Any], names: tuple[str, ...]) -> float | None:
    values = [
        regions[n]["value"]
        for n in names
        if regions.get(n, {}).get("value") is not None
    ]
    return sum(values) / len(values) if values else None


def _t_zone_oilier(photo: Mapping[str, Any]) -> bool:
    """True when the photo's T-zone shine clearly exceeds its cheeks' shine."""
    regions = photo.get("concerns", {}).get("shine", {}).get("regions", {})
    t_zone = _mean_value(regions, ("forehead", "nose_hull", "chin"))
    cheeks = _mean_value(regions, ("cheek_right", "cheek_left"))
    if t_zone is None or cheeks is None:
        return False
    return t_zone >= 0.03 and t_zone > 2.0 * cheeks + 0.01


def fuse(
    photo: Mapping[str, Any] | None, answers: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Skin type, sensitivity and 4-letter profile from a photo and/or answers.

    `photo` is `PhotoAnalysis.to_dict()` (ignored unless status is "ok"); `answers`
    are validated answers. Each part names its source: photo, questionnaire, both.
    """
    usable_photo = photo if photo and photo.get("status") == "ok" else None
    quiz = validate_answers(answers) if answers else {}
    from_quiz = questionnaire_axes(quiz)
    from_photo = photo_axes(usable_photo) if usable_photo else {}
    axes: dict[str, dict[str, Any]] = {}
    for axis, (yes, no) in AXES.items():
        q, p = from_quiz.get(axis), from_photo.get(axis)
        if q is not None and p is not None:
            value, source = 0.6 * q + 0.4 * p, "both"
        elif q is not None:
            value, source = q, "questionnaire"
        elif p is not None:
            value, source = p, "photo"
        else:
            axes[axis] = {"letter": None, "value": None, "source": None}
            continue
        letter = yes if value > 0 else no
        axes[axis] = {"letter": letter, "value": round(value, 3), "source": source}

    oil = axes["oily_dry"]
    quiz_combination = quiz.get("after_wash") == "shiny_t_zone"
    photo_combination = bool(usable_photo) and _t_zone_oilier(usable_photo)
    skin_type: str | None = None
    if oil["value"] is not None:
        if quiz_combination or photo_combination:
            skin_type = "combination"
        elif oil["value"] >= 0.35:
            skin_type = "oily"
        elif oil["value"] <= -0.35:
            skin_type = "dry"
        else:
            skin_type = "normal"
    sens = axes["sensitive_resistant"]
    profile = "".join(axes[a]["letter"] or "?" for a in AXES)
    return {
        "skin_type": skin_type,
        "skin_type_source": oil["source"],
        "sensitive": None if sens["value"] is None else sens["value"] > 0,
        "sensitive_source": sens["source"],
        "profile": profile,
        "axes": axes,
        "phototype": quiz.get("sun_reaction"),
        "phototype_source": "questionnaire" if "sun_reaction" in quiz else None,
        "concerns": quiz.get("concerns", []),
        "concerns_source": "questionnaire" if "concerns" in quiz else None,
    }
