from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from hub.models import set_history_context

        pre_create_historical_record.connect(set_history_context, dispatch_uid="hub.history_context")
