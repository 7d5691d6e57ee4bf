from rest_framework.routers import SimpleRouter

from stewardship.api.views import StewardTaskViewSet

router = SimpleRouter()
router.register("tasks", StewardTaskViewSet)

urlpatterns = router.urls
