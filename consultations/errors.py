"""Domain errors of consultations, each with the stable code the API answers with."""

from skincare.errors import DomainError


class ConsultationError(DomainError):
    """A refused consultation operation; `code` is the API's stable error code."""

    code = "consultation_error"


class SlotUnavailable(ConsultationError):
    code = "slot_unavailable"
    field = "start"
    message = "This start time is not a bookable slot of the dermatologist."


class SlotInPast(ConsultationError):
    code = "slot_in_past"
    field = "start"
    message = "This start time is in the past."


class OutsideBookingHorizon(ConsultationError):
    code = "outside_booking_horizon"
    field = "start"
    message = "This start time is further ahead than the dermatologist takes bookings."


class SlotTaken(ConsultationError):
    code = "slot_taken"
    status = 409
    message = "This slot has just been taken. Please choose another one."


class UnknownConsultationType(ConsultationError):
    code = "unknown_consultation_type"
    field = "type"
    message = "The dermatologist does not offer this consultation type."


class AnalysisNotShareable(ConsultationError):
    code = "analysis_not_shareable"
    field = "analyses"
    message = "Only your own completed analyses can be shared."


class ConsentRequired(ConsultationError):
    code = "consent_required"
    field = "consent_share_with_dermatologists"
    message = "Sharing analyses needs your consent to share them with dermatologists."


class OutsideChangeWindow(ConsultationError):
    code = "outside_change_window"
    message = "It is too late to change this consultation."


class InvalidStatusTransition(ConsultationError):
    code = "invalid_status_transition"
    status = 409
    message = "The consultation's status does not allow this."


class CannotBookSelf(ConsultationError):
    code = "cannot_book_self"
    field = "dermatologist"
    message = "You cannot book a consultation with yourself."


class AnalysisNotShared(ConsultationError):
    code = "analysis_not_shared"
    field = "analyses"
    message = "Only analyses shared in this consultation can be revoked."


class TooManyActiveBookings(ConsultationError):
    code = "too_many_active_bookings"
    status = 409
    message = "You already have as many upcoming consultations as can be booked."


class TooManyActiveBookingsWithDermatologist(ConsultationError):
    code = "too_many_active_bookings_with_dermatologist"
    status = 409
    message = (
        "You already have as many upcoming consultations with this dermatologist"
        " as can be booked."
    )


class InvalidWindow(ConsultationError):
    code = "invalid_window"
    field = "to"
    message = "`to` must be after `from`."


class WindowTooLong(ConsultationError):
    code = "window_too_long"
    field = "to"
    message = "The window is too long."


class UnknownDermatologist(ConsultationError):
    code = "does_not_exist"
    field = "dermatologist"
    message = "No such dermatologist."


class NotADermatologist(ConsultationError):
    code = "not_a_dermatologist"
    field = "user"
    message = "Only an account with the dermatologist role can have a profile."
