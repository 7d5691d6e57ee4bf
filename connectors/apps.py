from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        from connectors import signals  # noqa: F401 (connects the receivers)
        from connectors.services.breaker import breakers_summary
        from hub.health import health_section_register

        health_section_register("platforms", breakers_summary)
