from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "courseplatform.portability"
    label = "portability"
    verbose_name = "Taking data in and out (course archives, whole-school export, school closure)"
