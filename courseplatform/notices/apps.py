from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "courseplatform.notices"
    label = "notices"
    verbose_name = "Student notices (drip unlock emails, announcements, email opt-outs)"
