import json

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import (
    extend_validation_errors,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import (
    NotFound,
)
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import selectors, services
from analysis.errors import (
    PhotoRejected,
)
from analysis.filters import AnalysisFilter
from analysis.models import Analysis
from analysis.serializers import (
    AnalysisAcceptedSerializer,
    AnalysisCreateSerializer,
    AnalysisErrorResponseSerializer,
    AnalysisSerializer,
    ProgressSerializer,
    QuestionnaireSerializer,
    public_questionnaire,
)
from idempotency.api import idempotent
from skincare.api import UUID_LOOKUP_REGEX

# Room for the multipart envelope and the questionnaire next to the photo.
ENVELOPE_ALLOWANCE = 64 * 1024


class _SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file as soon as it passes the limit."""

    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            raise PhotoRejected(
                f"The photo exceeds {self.limit} bytes.", code="file_too_large"
            )
        return raw_data

    def file_complete(self, file_size):
        return None


def _limit_upload(request) -> None:
    """Refuse an oversized body before reading it, and cap each file while reading."""
    limit = settings.ANALYSIS_PHOTO_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + ENVELOPE_ALLOWANCE:
        raise PhotoRejected(f"The photo exceeds {limit} bytes.", code="file_too_large")
    django_request = request._request
    django_request.upload_handlers.insert(
        0, _SizeLimitUploadHandler(django_request, limit=limit)
    )


class JPEGRenderer(BaseRenderer):
    """Lets clients ask for image/jpeg; errors still go out as JSON."""

    media_type = "image/jpeg"
    format = "jpg"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


_ERROR = AnalysisErrorResponseSerializer


@extend_validation_errors(
    ["photo_or_questionnaire_required"],
    field_name="non_field_errors",
    actions=["create"],
)
@extend_validation_errors(
    [
        "not_an_image",
        "unsupported_format",
        "image_too_large",
        "image_too_small",
        "corrupt_image",
    ],
    field_name="photo",
    actions=["create"],
)
class AnalysisViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's skin analyses (photo and/or questionnaire)."""

    queryset = Analysis.objects.none()
    serializer_class = AnalysisSerializer
    filterset_class = AnalysisFilter
    parser_classes = [MultiPartParser, JSONParser]
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        return selectors.analyses_for(user=self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action == "create":  # before anything reads the body
            _limit_upload(request)

    @extend_schema(
        request=AnalysisCreateSerializer,
        responses={
            202: AnalysisAcceptedSerializer,
            403: OpenApiResponse(
                _ERROR,
                description="`photo_consent_required`: the user has not consented "
                "to photo analysis.",
            ),
            413: OpenApiResponse(
                _ERROR,
                description="`file_too_large`: the photo exceeds "
                "ANALYSIS_PHOTO_MAX_BYTES (64 MB by default).",
            ),
            429: OpenApiResponse(
                _ERROR,
                description="`analysis_daily_limit`: the user already started "
                "ANALYSIS_MAX_PER_DAY analyses (default 20) today, in their own "
                "time zone; `Retry-After` gives the seconds until their midnight. "
                "Deleting analyses does not free the allowance. Nothing is stored.",
            ),
            503: OpenApiResponse(
                _ERROR,
                description="`storage_unavailable`: the photo store refused or "
                "could not be reached; nothing is stored. Retry shortly.",
            ),
        },
    )
    @idempotent()
    def create(self, request):
        """Start an analysis of a photo and/or questionnaire answers.

        The request checks only what the photo's header tells (400 with
        `not_an_image`, `unsupported_format`, `image_too_large`, `image_too_small`,
        or `corrupt_image` for a damaged header) and keeps the upload privately
        until the worker decodes it, stores it without metadata and analyses it:
        poll the returned id. A photo whose body turns out damaged fails there with
        `failure_code` `corrupt_image`.
        """
        serializer = AnalysisCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = serializer.validated_data.get("photo")
        analysis = services.create_analysis(
            user=request.user,
            photo=photo,
            answers=serializer.validated_data.get("questionnaire"),
        )
        return Response(
            AnalysisAcceptedSerializer(analysis).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"{request.path}{analysis.pk}/"},
        )

    def list(self, request, *args, **kwargs):
        """The user's analyses, newest first."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        """One analysis: status, skin type, per-concern scores, quality, advice."""
        return super().retrieve(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        """Delete the analysis and its photo."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.delete_analysis(analysis=instance)

    @extend_schema(
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            503: OpenApiResponse(
                _ERROR,
                description="`storage_unavailable`: the photo store refused or "
                "could not be reached. Retry shortly.",
            ),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, JPEGRenderer])
    def photo(self, request, pk=None):
        """The analysis photo (EXIF-free JPEG), for its owner only; never cached."""
        return photo_response(self.get_object())

    @extend_schema(responses=ProgressSerializer)
    @action(detail=False, methods=["get"])
    def progress(self, request):
        """Per-concern scores over time with changes, noise and lighting checks."""
        data = selectors.progress_for(user=request.user)
        return Response(ProgressSerializer(data).data)


def photo_response(analysis) -> FileResponse:
    """The stored photo as a private, never-cached JPEG; 404 when there is none."""
    handle = services.open_photo(analysis=analysis)
    if handle is None:
        raise NotFound("This analysis has no stored photo.")
    response = FileResponse(
        handle, content_type="image/jpeg", filename="analysis-photo.jpg"
    )
    response["Cache-Control"] = "no-store, private"
    return response


class QuestionnaireView(APIView):
    """The skin questionnaire: questions and their allowed answers."""

    @extend_schema(responses=QuestionnaireSerializer)
    def get(self, request):
        return Response(public_questionnaire())


class PhotoLinkView(APIView):
    """An analysis photo through a signed link from the account export."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [JSONRenderer, JPEGRenderer]

    @extend_schema(
        auth=[],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                _ERROR,
                description="`not_found`: the link is forged or expired, or the "
                "analysis, its photo or its owner's account is gone.",
            ),
            503: OpenApiResponse(
                _ERROR,
                description="`storage_unavailable`: the photo store refused or "
                "could not be reached. Retry shortly.",
            ),
        },
    )
    def get(self, request, token: str):
        """The stored (EXIF-free JPEG) photo a `photo_url` of the export names.

        Export links need no bearer token: the signature names the analysis and its
        owner and expires after ANALYSIS_PHOTO_LINK_MAX_AGE seconds (15 minutes by
        default); export again for fresh ones. Never cached.
        """
        return photo_response(services.analysis_for_photo_link(token=token))
