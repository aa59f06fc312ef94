"""Domain errors of routines, each with the stable code the API answers with."""

from skincare.errors import DomainError


class RoutineError(DomainError):
    """A refused routine operation; ``code`` is the API's stable error code."""

    code = "routine_error"


class NoAnalysis(RoutineError):
    code = "no_analysis"
    message = (
        "There is no completed skin analysis and no declared skin type to build a "
        "routine from. Take an analysis or set your skin type first."
    )


class AnalysisNotUsable(RoutineError):
    code = "analysis_not_usable"
    field = "analysis"
    message = "Only your own completed analyses can be used."


class RecommendationFailed(RoutineError):
    code = "recommendation_failed"
    message = "No routine without severe conflicts could be built from the catalogue."


class UnknownProduct(RoutineError):
    code = "unknown_product"
    field = "steps"
    message = "A step names a product that is not in the catalogue."


class UnknownStep(RoutineError):
    code = "unknown_step"
    field = "steps"
    message = "A step id does not belong to this routine."


class TooManyRoutines(RoutineError):
    code = "too_many_routines"
    message = "You have reached the maximum number of routines."


class DateInFuture(RoutineError):
    code = "date_in_future"
    field = "date"
    message = "You cannot check in for a day that has not started yet."


class DateTooOld(RoutineError):
    code = "date_too_old"
    field = "date"
    message = "This day is too far back to check in."
