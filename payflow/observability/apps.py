from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "payflow.observability"
    label = "payflow_observability"
    verbose_name = "Observability"

    def ready(self):
        from celery.signals import (
            before_task_publish,
            task_postrun,
            task_prerun,
            worker_process_shutdown,
            worker_ready,
            worker_shutdown,
        )
        from django.conf import settings

        from .logs import task_context_bind, task_context_clear, task_headers_add
        from .metrics import recorder
        from .prometheus import task_finished, task_started, worker_metrics_serve

        # The request id (and the object worked on) in every log line of a task.
        before_task_publish.connect(task_headers_add, weak=False)
        task_prerun.connect(task_context_bind, weak=False)
        task_postrun.connect(task_context_clear, weak=False)

        # Prometheus: each task's outcome and duration.
        task_prerun.connect(task_started, weak=False)
        task_postrun.connect(task_finished, weak=False)
        # A worker on a host without a web server serves its own /metrics (token only).
        if settings.WORKER_METRICS_PORT:
            worker_ready.connect(
                lambda **kwargs: worker_metrics_serve(settings.WORKER_METRICS_PORT), weak=False
            )

        # A Celery child or worker that stops cleanly writes its last counts.
        worker_process_shutdown.connect(lambda **kwargs: recorder.flush(), weak=False)
        worker_shutdown.connect(lambda **kwargs: recorder.flush(), weak=False)
