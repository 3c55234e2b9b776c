from django.apps import AppConfig


class SettingsChecksConfig(AppConfig):
    """Not a feature: the home of the settings' system checks (config/checks.py)."""

    name = "events_face.config"
    label = "events_face_config"
    verbose_name = "Configuration"

    def ready(self) -> None:
        from events_face.config import checks  # noqa: F401  (registers them)
