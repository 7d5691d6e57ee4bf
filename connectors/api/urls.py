from django.urls import path

from connectors.api.webhooks import webhook_receiver

urlpatterns = [path("<slug:system>/", webhook_receiver, name="webhook-receiver")]
