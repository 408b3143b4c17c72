from django.urls import path
from rest_framework.routers import SimpleRouter

from .apis import BalanceApi, CustomerViewSet, DisbursementViewSet

router = SimpleRouter(trailing_slash=False)
router.register("customers", CustomerViewSet, basename="customer")
router.register("disbursements", DisbursementViewSet, basename="disbursement")

urlpatterns = [*router.urls, path("balance", BalanceApi.as_view(), name="balance")]
