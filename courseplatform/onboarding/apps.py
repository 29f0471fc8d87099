from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "courseplatform.onboarding"
    label = "onboarding"
    verbose_name = "Onboarding"
