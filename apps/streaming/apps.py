from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "apps.streaming"
    label = "streaming"
    default_auto_field = "django.db.models.BigAutoField"
