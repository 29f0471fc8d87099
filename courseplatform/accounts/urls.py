from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("signup/", views.signup_view, name="signup"),
    path("logout/", views.logout_view, name="logout"),
    path("session/", views.session_view, name="session"),
    path("verify/<str:uidb64>/<str:token>/", views.verify_email_view, name="verify_email"),
    path("password-reset/", views.password_reset_request_view, name="password_reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("login-link/<str:token>/", views.login_link_view, name="login_link"),
    path("impersonate/<str:token>/", views.impersonate_view, name="impersonate"),
    path("impersonation/end/", views.end_impersonation_view, name="end_impersonation"),
]
