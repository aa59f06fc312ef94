from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path(
        "auth/verify-email/", views.VerifyEmailView.as_view(), name="auth-verify-email"
    ),
    path(
        "auth/verify-email/resend/",
        views.VerifyEmailResendView.as_view(),
        name="auth-verify-email-resend",
    ),
    path("auth/token/", views.TokenObtainPairView.as_view(), name="auth-token"),
    path(
        "auth/token/refresh/",
        views.TokenRefreshView.as_view(),
        name="auth-token-refresh",
    ),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path(
        "auth/password/reset/",
        views.PasswordResetView.as_view(),
        name="auth-password-reset",
    ),
    path(
        "auth/password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path(
        "auth/password/change/",
        views.PasswordChangeView.as_view(),
        name="auth-password-change",
    ),
    path("users/me/", views.MeView.as_view(), name="users-me"),
    path("users/me/email/", views.EmailChangeView.as_view(), name="users-me-email"),
    path("users/me/export/", views.ExportView.as_view(), name="users-me-export"),
]
