from django.apps import AppConfig


class DomainConfig(AppConfig):
    name = "apps.domain"
    label = "domain"
    default_auto_field = "django.db.models.BigAutoField"
