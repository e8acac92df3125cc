from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from accounts import views as accounts_views
from audit import api as audit_api
from lib import api as lib_api
from lib import edge
from notifications import api as notifications_api
from notifications import views as notifications_views
from supervision import api as supervision_api

# `<id:pk>` in every urls module: a database id that fits a bigint (lib.edge.IdConverter). Registered
# before the app urls modules below are imported by include().
register_converter(edge.IdConverter, "id")

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", accounts_api.obtain_token, name="api_token"),
    path("me/", accounts_api.me, name="api_me"),
    path("organizations/", accounts_api.organizations, name="api_organizations"),
    path("organizations/<id:pk>/", accounts_api.organization, name="api_organization"),
    path(
        "organizations/<id:pk>/bars/", accounts_api.organization_bars, name="api_organization_bars"
    ),
    path("integrity-records/<id:pk>/lift/", accounts_api.lift_bar, name="api_lift_bar"),
    path("", include("accounts.api_urls")),
    path("audit/events/", supervision_api.events, name="api_audit_events"),
    path("audit/head/", audit_api.head, name="api_audit_head"),
    path("audit/heads/", audit_api.heads, name="api_audit_heads"),
    path("ocds/", include("trading.ocds_urls")),
    path("", include("trading.api_urls")),
    path("deposits/", include("deposits.api_urls")),
    path("alerts/", include("supervision.alert_urls")),
    path("experts/", include("experts.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's init script from a URL: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("bidding/", include("bidding.api_urls")),
    path("signing/", include("signing.api_urls")),
    path("notifications/", include("notifications.api_urls")),
    path("notifications/", include("notifications.channel_api_urls")),
    path("todo/", notifications_api.todo, name="api_todo"),
    path("complaints/", include("complaints.api_urls")),
    path("contracts/", include("contracts.api_urls")),
    path("frameworks/", include("frameworks.api_urls")),
    # Anything else under /api/v1/ answers in the API's error shape, not an HTML page (a path with
    # a newline in it too, which `<path:…>` would not match).
    re_path(r"^[\s\S]*$", lib_api.api_not_found),
]

urlpatterns = [
    path("", notifications_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("organizations/", accounts_views.organization_list, name="organization_list"),
    path("organizations/<id:pk>/", accounts_views.organization_detail, name="organization_detail"),
    path("organizations/<id:pk>/bar/", accounts_views.bar_organization, name="organization_bar"),
    path("integrity-records/<id:pk>/lift/", accounts_views.lift_bar, name="integrity_lift"),
    path("announcements/", include("trading.pdf_urls")),
    path("deposits/", include("deposits.urls")),
    path("experts/", include("experts.urls")),
    path("bidding/", include("bidding.urls")),
    path("supervision/", include("supervision.urls")),
    path("signing/", include("signing.urls")),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("audit.head_urls")),
    path("", include("notifications.channel_urls")),
    path("complaints/", include("complaints.urls")),
    path("contracts/", include("contracts.urls")),
    path("", include("trading.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

# Errors raised outside a view's own handling: JSON under /api/, plain pages elsewhere.
handler400 = edge.bad_request
handler403 = edge.permission_denied
handler404 = edge.page_not_found
handler500 = edge.server_error

admin.site.site_header = "bidhall 公共资源交易平台"
admin.site.site_title = "bidhall"
