from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "courseplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts"
