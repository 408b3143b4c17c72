from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "payflow.events"
    label = "payflow_events"
    verbose_name = "Events"
