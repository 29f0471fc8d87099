"""/manage/site/: the school's site management (theme, pages and builder)."""

from django.urls import path

from . import views_builder, views_theme

app_name = "sites_manage"

urlpatterns = [
    path("", views_theme.site_home, name="home"),
    path("theme/", views_theme.theme_edit, name="theme"),
    # Pages and the builder (views_builder.py).
    path("pages/", views_builder.pages_list, name="pages"),
    path("pages/new/", views_builder.page_create, name="page_create"),
    path("pages/<int:page_id>/", views_builder.page_detail, name="page"),
    path("pages/<int:page_id>/builder/", views_builder.builder, name="builder"),
    path("pages/<int:page_id>/draft/", views_builder.draft, name="draft"),
    path("pages/<int:page_id>/publish/", views_builder.publish, name="publish"),
    path("pages/<int:page_id>/unpublish/", views_builder.page_unpublish, name="unpublish"),
    path("pages/<int:page_id>/nav/", views_builder.page_nav, name="nav"),
    path("pages/<int:page_id>/move/", views_builder.page_move, name="move"),
    path("pages/<int:page_id>/home/", views_builder.page_set_home, name="set_home"),
    path("pages/<int:page_id>/starter/", views_builder.page_starter, name="starter"),
    path("pages/<int:page_id>/delete/", views_builder.page_delete, name="delete"),
    path(
        "pages/<int:page_id>/revisions/<int:revision_id>/restore/",
        views_builder.revision_restore,
        name="restore",
    ),
    path("assets/", views_builder.assets, name="assets"),
]
