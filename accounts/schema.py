"""OpenAPI extensions for this app's authentication class."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BearerJWTScheme(SimpleJWTScheme):
    target_class = "accounts.auth.JWTAuthentication"
    name = "jwtAuth"
