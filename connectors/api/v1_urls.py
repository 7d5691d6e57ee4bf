"""The connectors' part of the versioned API, mounted under /api/v1/ beside the canonical one."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from connectors.api.deliveries import CircuitBreakerListView, DeliveryViewSet

router = SimpleRouter()
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("circuit-breakers/", CircuitBreakerListView.as_view(), name="circuit-breakers"),
    *router.urls,
]
