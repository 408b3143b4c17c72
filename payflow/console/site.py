from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import path


class ConsoleSite(admin.AdminSite):
    site_header = "PayFlow operations"
    site_title = "PayFlow"
    index_title = "Operations"
    index_template = "admin/console/index.html"

    def get_urls(self):
        from payflow.observability.dashboard import dashboard_view

        return [
            path("dashboard/", self.admin_view(dashboard_view), name="dashboard"),
            *super().get_urls(),
        ]


class ConsoleAdminConfig(AdminConfig):
    default_site = "payflow.console.site.ConsoleSite"
