"""OpenAPI extensions for this app's authentication class and views."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme

from skincare.schema import AutoSchema


class BearerJWTScheme(SimpleJWTScheme):
    target_class = "accounts.auth.JWTAuthentication"
    name = "jwtAuth"


class BodyOnDeleteAutoSchema(AutoSchema):
    """Documents the request body of DELETE, which drf-spectacular skips by default.

    ``DELETE users/me/`` takes the password in its body.
    """

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
