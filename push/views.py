"""The devices API: the signed-in app registers and removes its push token."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status, viewsets
from rest_framework.response import Response

from accounts.auth import FAMILY_CLAIM, parse_family
from push import selectors, services
from push.models import Device
from push.serializers import DeviceIn, DeviceOut
from skincare.api import UUID_LOOKUP_REGEX


@extend_schema(tags=["devices"])
@extend_validation_errors(["invalid_push_token"], field_name="token", methods=["post"])
class DeviceViewSet(viewsets.GenericViewSet):
    """Push tokens of the signed-in user's phones."""

    queryset = Device.objects.none()
    serializer_class = DeviceOut
    lookup_value_regex = UUID_LOOKUP_REGEX
    filter_backends: list = []

    @extend_schema(request=DeviceIn, responses={201: DeviceOut, 200: DeviceOut})
    def create(self, request):
        """Register this phone's push token: 201 when new, 200 when already known.

        A token known under another account moves to this one. Signing this session
        out, changing the password or deleting the account stops pushes to it.
        """
        serializer = DeviceIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        claims = getattr(request.auth, "payload", None) or {}
        device, created = services.register_device(
            user=request.user,
            session_family=parse_family(claims.get(FAMILY_CLAIM, "")),
            **serializer.validated_data,
        )
        return Response(
            DeviceOut(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Forget this phone: no more pushes to it."""
        device = selectors.device_of(user=request.user, device_id=pk)
        if device is None:
            raise Http404
        services.remove_device(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)
