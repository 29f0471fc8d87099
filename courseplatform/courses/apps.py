from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courseplatform.courses"
    label = "courses"
    verbose_name = "Courses"
