from django.urls import path
from rest_framework.routers import DefaultRouter

from canonical.api import matching, views
from hub.api.permissions import IsAuthenticatedCaller


class ApiRootView(DefaultRouter.APIRootView):
    """Concord API v1: golden records, crosswalk lookups, the change feed and the glossary."""

    permission_classes = [IsAuthenticatedCaller]


class Router(DefaultRouter):
    APIRootView = ApiRootView


router = Router()
router.register("clients", views.ClientViewSet)
router.register("engagements", views.EngagementViewSet)
router.register("milestones", views.MilestoneViewSet)
router.register("contracts", views.ContractViewSet)
router.register("revenue-events", views.RevenueEventViewSet)
router.register("systems", views.ConnectedSystemViewSet)
router.register("glossary", views.GlossaryTermViewSet, basename="glossaryterm")
router.register("potential-matches", matching.PotentialMatchViewSet)
router.register("match-rules", matching.MatchRulesViewSet, basename="matchrules")

urlpatterns = [
    path("lookup/", views.CrosswalkLookupView.as_view(), name="crosswalk-lookup"),
    path("changes/", views.ChangeFeedView.as_view(), name="change-feed"),
    *router.urls,
]
