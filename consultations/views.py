"""The consultations API: dermatologists, free slots and the patient's bookings."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEmailVerified
from consultations import selectors, services, slots
from consultations.filters import ConsultationFilter, DermatologistFilter
from consultations.models import Consultation, Dermatologist
from consultations.serializers import (
    BookingSerializer,
    CancelSerializer,
    ConsultationSerializer,
    DermatologistSerializer,
    RescheduleSerializer,
    RevokeSharesSerializer,
    ShareAccessSerializer,
    SlotsQuerySerializer,
    SlotsSerializer,
)
from idempotency.api import idempotent
from skincare.api import UUID_LOOKUP_REGEX

CONFLICT_RESPONSE = OpenApiResponse(
    description="`slot_taken`: another booking got the slot first; "
    "`invalid_status_transition`: the status does not allow this."
)


@extend_schema(tags=["consultations"])
class DermatologistViewSet(viewsets.ReadOnlyModelViewSet):
    """Verified dermatologists' public profiles."""

    queryset = Dermatologist.objects.none()
    serializer_class = DermatologistSerializer
    permission_classes = [AllowAny]
    filterset_class = DermatologistFilter
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        return selectors.verified_dermatologists()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATETIME,
                required=True,
                description="Window start, ISO 8601 with offset.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATETIME,
                required=True,
                description="Window end, ISO 8601 with offset; "
                f"at most {slots.MAX_WINDOW_DAYS} days after `from`.",
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                required=True,
                description="Consultation type the dermatologist offers.",
            ),
        ],
        responses={
            200: SlotsSerializer,
            400: OpenApiResponse(
                description="`invalid_window`, `window_too_long` or "
                "`unknown_consultation_type`."
            ),
        },
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def slots(self, request, pk=None):
        """Free start times of one consultation type in a window, in UTC."""
        dermatologist = self.get_object()
        query = SlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = services.find_free_slots(
            dermatologist=dermatologist,
            kind=query.validated_data["type"],
            window_start=query.validated_data["from"],
            window_end=query.validated_data["to"],
        )
        data = {
            "dermatologist": dermatologist.pk,
            "type": found.consultation_type.kind,
            "duration_minutes": found.consultation_type.duration_minutes,
            "timezone": dermatologist.timezone,
            "slots": found.slots,
        }
        return Response(SlotsSerializer(data).data)


@extend_schema(tags=["consultations"])
class ConsultationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in patient's consultations."""

    queryset = Consultation.objects.none()
    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        return selectors.consultations_for_patient(user=self.request.user)

    def get_permissions(self):
        if self.action in ("create", "reschedule"):
            return [IsAuthenticated(), IsEmailVerified()]
        return super().get_permissions()

    def _respond(self, consultation, code=status.HTTP_200_OK) -> Response:
        consultation = self.get_queryset().get(pk=consultation.pk)
        return Response(ConsultationSerializer(consultation).data, status=code)

    @extend_schema(
        request=BookingSerializer,
        responses={
            201: ConsultationSerializer,
            400: OpenApiResponse(
                description="Validation errors; codes include `slot_unavailable`, "
                "`slot_in_past`, `outside_booking_horizon`, "
                "`unknown_consultation_type`, `analysis_not_shareable`, "
                "`consent_required`, `does_not_exist` (dermatologist)."
            ),
            403: OpenApiResponse(description="`email_not_verified`."),
            409: OpenApiResponse(
                description="`slot_taken`; `too_many_active_bookings` (the "
                "patient's upcoming requested or confirmed consultations reached "
                "`CONSULTATION_MAX_ACTIVE_PER_PATIENT`); "
                "`too_many_active_bookings_with_dermatologist` (those with this "
                "dermatologist reached `CONSULTATION_MAX_ACTIVE_PER_PAIR`). "
                "Nothing is written."
            ),
        },
    )
    @idempotent()
    def create(self, request):
        """Book a free slot with a dermatologist."""
        serializer = BookingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consultation = services.book_consultation(
            patient=request.user,
            dermatologist=services.bookable_dermatologist(
                dermatologist_id=data["dermatologist"]
            ),
            kind=data["type"],
            start=data["start"],
            reason=data["reason"],
            analysis_ids=data["analyses"],
            consent_to_share=data["consent_share_with_dermatologists"],
        )
        return self._respond(consultation, status.HTTP_201_CREATED)

    @extend_schema(
        request=CancelSerializer,
        responses={
            200: ConsultationSerializer,
            400: OpenApiResponse(description="`outside_change_window`."),
            409: CONFLICT_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel, up to the policy window before the start."""
        consultation = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cancel_consultation(
            consultation=consultation,
            by=request.user,
            reason=serializer.validated_data["reason"],
        )
        return self._respond(consultation)

    @extend_schema(
        request=RescheduleSerializer,
        responses={
            200: ConsultationSerializer,
            400: OpenApiResponse(
                description="`outside_change_window`, `slot_unavailable`, "
                "`slot_in_past`, `outside_booking_horizon`."
            ),
            409: CONFLICT_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move to another free slot; the booking goes back to `requested`."""
        consultation = self.get_object()
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reschedule_consultation(
            consultation=consultation,
            start=serializer.validated_data["start"],
            by=request.user,
        )
        return self._respond(consultation)

    @extend_schema(
        request=RevokeSharesSerializer,
        responses={
            200: ConsultationSerializer,
            400: OpenApiResponse(
                description="`analysis_not_shared` on `analyses`: an id that was "
                "not shared in this consultation; nothing is revoked."
            ),
        },
        description="Take back analyses shared with the dermatologist (all of "
        "them, or those in `analyses`), in any status. The dermatologist's access "
        "to them and their photos ends at once; each share stays listed in "
        "`shares` with its `revoked_at`. Revoking again changes nothing.",
    )
    @action(detail=True, methods=["post"], url_path="shares/revoke")
    def revoke_shares(self, request, pk=None):
        """Revoke shared analyses."""
        consultation = self.get_object()
        serializer = RevokeSharesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.revoke_shares(
            consultation=consultation,
            analysis_ids=serializer.validated_data.get("analyses"),
        )
        return self._respond(consultation)

    @extend_schema(
        responses={200: ShareAccessSerializer(many=True)},
        description="Every time the dermatologist of this consultation saw an "
        "analysis you shared in it (`analysis`: on the consultation page; "
        "`photo`: the photo itself), newest first. One list per consultation.",
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=ShareAccessSerializer,
        filterset_class=None,
    )
    def accesses(self, request, pk=None):
        """Who saw your shared analyses, and when."""
        consultation = self.get_object()
        page = self.paginate_queryset(
            selectors.share_accesses_for_patient(consultation=consultation)
        )
        return self.get_paginated_response(ShareAccessSerializer(page, many=True).data)


class ICalendarRenderer(renderers.BaseRenderer):
    """text/calendar, so clients may ask for it; errors still render as JSON."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode()
        return renderers.JSONRenderer().render(data)


class ConsultationCalendarView(APIView):
    """One of the patient's consultations as an iCalendar event."""

    renderer_classes = [renderers.JSONRenderer, ICalendarRenderer]

    @extend_schema(
        tags=["consultations"],
        operation_id="get_consultation_calendar",
        responses={
            (200, "text/calendar"): OpenApiResponse(
                response=OpenApiTypes.STR, description="An RFC 5545 VCALENDAR."
            )
        },
    )
    def get(self, request, pk):
        consultation = get_object_or_404(
            selectors.consultations_for_patient(user=request.user), pk=pk
        )
        response = HttpResponse(
            services.calendar_for(consultation=consultation),
            content_type="text/calendar; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="consultation-{consultation.pk}.ics"'
        )
        return response
