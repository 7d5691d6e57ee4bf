from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.health import healthz

admin.site.site_header = "Concord stewardship"
admin.site.site_title = "Concord"
admin.site.index_title = "Golden records, crosswalks and the glossary"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("hooks/", include("connectors.api.urls")),
    path("api/v1/", include("canonical.api.urls")),
    path("api/v1/", include("stewardship.api.urls")),
    path("api/v1/", include("connectors.api.v1_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]

handler404 = "hub.api.errors.not_found"
handler500 = "hub.api.errors.server_error"
