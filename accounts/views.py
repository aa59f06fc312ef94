from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts import lifecycle, services, throttles
from accounts.refresh import rotate_refresh_token, sign_out
from accounts.schema import BodyOnDeleteAutoSchema
from accounts.serializers import (
    DeleteAccountSerializer,
    DetailSerializer,
    EmailChangeSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    VerifyEmailResultSerializer,
    VerifyEmailSerializer,
)
from accounts.tasks import send_password_reset_task
from idempotency.api import idempotent, registration_scope
from skincare.http import client_ip
from skincare.tasks import enqueue
from skincare.throttling import ScopedRateThrottle

UNVERIFIED_POLICY = (
    "An account whose address is not verified yet may sign in, edit its profile, run "
    "analyses and keep routines, but may not book a consultation: those endpoints "
    "answer 403 with code `email_not_verified` "
    "(`accounts.permissions.IsEmailVerified`)."
)
TOKEN_ERRORS = ["invalid_token", "token_expired", "token_used"]
CONFIRMATION_LIMITS = (
    " The password check is limited per IP and per account (429 `throttled`) and "
    "wrong passwords count toward the sign-in lock (429 `account_locked`)."
)
RESET_ACCEPTED = (
    "If an account has this address, an e-mail with a reset code is on its way."
)


@extend_validation_errors(["email_taken"], field_name="email")
class RegisterView(APIView):
    """Create a patient account."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle, throttles.RegisterAccountThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterSerializer,
        responses={201: ProfileSerializer},
        description="Create a patient account and e-mail a verification code to the "
        "address (see `auth/verify-email/`). " + UNVERIFIED_POLICY,
    )
    @idempotent(scope=registration_scope)
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.register_user(
            email=data["email"],
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            timezone_name=data["timezone"],
        )
        return Response(ProfileSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_validation_errors(
    ["invalid_token", "token_expired", "token_used"], field_name="token"
)
@extend_validation_errors(["email_taken"], field_name="email")
class VerifyEmailView(APIView):
    """Confirm an e-mail address with the code or link sent to it."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.TokenIPThrottle]

    @extend_schema(
        request=VerifyEmailSerializer,
        responses={200: VerifyEmailResultSerializer},
        description="Marks the address verified. A code sent to a new address "
        "(`users/me/email/`) makes it the account's e-mail. Errors on `token`: "
        "`invalid_token`, `token_expired`, `token_used`; `email_taken` when another "
        "account took the new address meanwhile. " + UNVERIFIED_POLICY,
    )
    def post(self, request):
        serializer = VerifyEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.verify_email(token=serializer.validated_data["token"])
        return Response({"email": user.email, "email_verified": True})


@extend_validation_errors(["already_verified"], field_name="non_field_errors")
class VerifyEmailResendView(APIView):
    """Send a new verification code to the unverified or pending address."""

    throttle_classes = [
        throttles.VerifyEmailResendThrottle,
        throttles.VerifyEmailResendIPThrottle,
    ]

    @extend_schema(
        request=None,
        responses={202: DetailSerializer},
        description="Sends a fresh code to the pending new address if there is one, "
        "else to the account's unverified address; `already_verified` otherwise.",
    )
    def post(self, request):
        email = services.resend_email_verification(user=request.user)
        return Response(
            {"detail": f"A new code was sent to {email}."},
            status=status.HTTP_202_ACCEPTED,
        )


class TokenObtainPairView(jwt_views.TokenObtainPairView):
    """Sign in with e-mail and password; returns an access and a refresh token."""

    answers_401 = True
    # Limits and lockout are counted by accounts.signin (SignInSerializer), with every
    # other way a password is presented; only the general API limit applies here.

    @extend_schema(
        responses={200: TokenPairSerializer},
        description="Sign in. Throttled per IP and per address (429 `throttled`); "
        "repeated failures lock the account for a while (429 `account_locked`, with "
        "Retry-After, even with the right password). " + UNVERIFIED_POLICY,
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


REFRESH_RULES = (
    "Each refresh token works once; the answer carries its successor. Presenting a "
    "refresh token that was already exchanged answers 401 `token_reused` and ends "
    "its session: every refresh and access token descended from that sign-in stops "
    "at once and the user is e-mailed; other sign-ins (devices) are not affected. An "
    "app must send one refresh at a time per session: two parallel refreshes of one "
    "token end the session. Any other unusable token answers 401 `token_not_valid`."
)


class TokenRefreshView(APIView):
    """Exchange a refresh token for a new access and refresh token (rotation)."""

    answers_401 = True

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenPairSerializer},
        description=REFRESH_RULES,
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh = rotate_refresh_token(refresh=serializer.validated_data["refresh"])
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class LogoutView(APIView):
    """Blacklist a refresh token so it can no longer be used."""

    answers_401 = True

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

    @extend_schema(
        request=RefreshSerializer,
        responses={204: OpenApiResponse(description="Refresh token blacklisted.")},
        description="Signs this session out: the refresh token stops working (its "
        "access token expires on its own). A token that is already unusable answers "
        "401 `token_not_valid`.",
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sign_out(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Ask for a password reset code by e-mail."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [
        throttles.PasswordResetIPThrottle,
        throttles.PasswordResetAccountThrottle,
    ]

    @extend_schema(
        request=PasswordResetSerializer,
        responses={202: DetailSerializer},
        description="Always 202 with the same body, whether or not an account has "
        "the address: the lookup happens in a worker, so the answer and its timing "
        "reveal nothing.",
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = services.normalise_email(serializer.validated_data["email"])
        enqueue(send_password_reset_task, email)
        return Response({"detail": RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


@extend_validation_errors(
    ["invalid_token", "token_expired", "token_used"], field_name="token"
)
class PasswordResetConfirmView(APIView):
    """Choose a new password with the code from the reset e-mail."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [throttles.TokenIPThrottle]

    @extend_schema(
        request=PasswordResetConfirmSerializer,
        responses={204: OpenApiResponse(description="Password changed.")},
        description="Sets the new password (password rules apply), lifts a sign-in "
        "lock and signs the account out everywhere. Errors on `token`: "
        "`invalid_token`, `token_expired`, `token_used`.",
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.reset_password(token=data["token"], new_password=data["new_password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["wrong_password"], field_name="current_password")
class PasswordChangeView(APIView):
    """Change the password; other devices are signed out."""

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
        description="Needs the current password (`wrong_password` on "
        "`current_password`). Revokes every refresh token and access token of the "
        "account and returns a fresh pair for this device." + CONFIRMATION_LIMITS,
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refresh = services.change_password(
            user=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            client_ip=client_ip(request),
        )
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


@extend_validation_errors(
    [
        "required",
        "null",
        "blank",
        "invalid",
        "max_length",
        "null_characters_not_allowed",
        "surrogate_characters_not_allowed",
        "wrong_password",
    ],
    field_name="password",
    methods=["delete"],
)
@extend_validation_errors(
    ["invalid", "null"], field_name="non_field_errors", methods=["delete"]
)
class MeView(generics.RetrieveUpdateDestroyAPIView):
    """The signed-in user's own profile."""

    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    schema = BodyOnDeleteAutoSchema()

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        services.update_profile(user=self.request.user, **serializer.validated_data)

    @extend_schema(
        request=DeleteAccountSerializer,
        responses={204: OpenApiResponse(description="Account deleted.")},
        description="Soft-deletes the account, confirmed by the JSON body "
        '`{"password": ...}` (`wrong_password`). Sign-in and every token stop at '
        "once and a confirmation e-mail is sent; the data is erased for good after "
        "the retention period, until when support can restore the account."
        + CONFIRMATION_LIMITS,
    )
    def delete(self, request, *args, **kwargs):
        serializer = DeleteAccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.delete_account(
            user=request.user,
            password=serializer.validated_data["password"],
            client_ip=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["wrong_password"], field_name="password")
@extend_validation_errors(["email_taken", "email_unchanged"], field_name="new_email")
class EmailChangeView(APIView):
    """Start changing the account's e-mail address."""

    @extend_schema(
        request=EmailChangeSerializer,
        responses={202: ProfileSerializer},
        description="Needs the password (`wrong_password`). Sends a verification "
        "code to `new_email` and shows it as `pending_email`; the e-mail changes "
        "only once that code is confirmed at `auth/verify-email/`. `email_taken` "
        "and `email_unchanged` on `new_email`." + CONFIRMATION_LIMITS,
    )
    def post(self, request):
        serializer = EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.request_email_change(
            user=request.user,
            new_email=data["new_email"],
            password=data["password"],
            client_ip=client_ip(request),
        )
        return Response(ProfileSerializer(user).data, status=status.HTTP_202_ACCEPTED)


class ExportView(APIView):
    """Everything stored about the signed-in user, as one JSON document."""

    throttle_classes = [throttles.ExportThrottle]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="`data` maps each `app_label.ModelName` that stores something "
        "about the user to its rows. Sent as an attachment. Analyses come whole "
        "(`photo_result` is the engine's full output). Photos are not inlined: each "
        "`analysis.Analysis` row with a stored photo has `photo_url`, a short-lived "
        "signed link (path on this API host, no bearer token needed, valid "
        "ANALYSIS_PHOTO_LINK_MAX_AGE seconds, 15 minutes by default, until "
        "`photo_url_expires_at`) that serves the EXIF-free JPEG exactly as stored "
        "and stops working once the analysis or the account is deleted; export "
        "again for fresh links.",
    )
    def get(self, request):
        document = lifecycle.build_user_export(user=request.user)
        filename = f"skincare-export-{timezone.now():%Y-%m-%d}.json"
        # The document holds working photo links: keep it out of every cache.
        return Response(
            document,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store, private",
            },
        )
