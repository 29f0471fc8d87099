from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "courseplatform.roster"
    label = "roster"
    verbose_name = "Bulk student import (CSV and XLSX, preview, background apply, report)"
