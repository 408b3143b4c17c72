"""DynamoDB tables of the customers app.

Access patterns:
- a customer by id ..................... customers: GetItem(id = cus_…)
- a customer by the merchant's own id .. customers: GetItem(id = ref#<merchant>#<customer_id>),
  an item that points to the customer and makes that id unique per merchant
- a merchant's customers, newest first .. customers.by-merchant: merchant_id, created_key
- a disbursement by id ................. disbursements: GetItem(id = dsb_…)
- a merchant's disbursements ........... disbursements.by-merchant[-status|-customer]
- ACH payouts due to settle ............ disbursements.ach-due: ach_due (sparse), settles_at
"""

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from payflow.aws.dynamodb import table


class CustomersByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@table("customers")
class Customer(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    # Customers only; the reference items leave these empty (and out of the index).
    created_key = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)  # the merchant's own reference
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    metadata = MapAttribute(default=dict)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # Reference items only: the customer they point to.
    target = UnicodeAttribute(null=True)

    by_merchant = CustomersByMerchant()


class DisbursementsByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DisbursementsByMerchantStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant-status"
        projection = AllProjection()

    merchant_status = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DisbursementsByMerchantCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant-customer"
        projection = AllProjection()

    merchant_customer = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class AchDue(GlobalSecondaryIndex):
    class Meta:
        index_name = "ach-due"
        projection = AllProjection()

    ach_due = UnicodeAttribute(hash_key=True)  # "ach" while an ACH payout waits to settle
    settles_at = NumberAttribute(range_key=True)  # epoch seconds


@table("disbursements")
class Disbursement(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()  # cus_…
    created_key = UnicodeAttribute()
    merchant_status = UnicodeAttribute()
    merchant_customer = UnicodeAttribute()
    amount = NumberAttribute()  # minor units
    currency = UnicodeAttribute()
    method = UnicodeAttribute()  # paypal | stripe | ach
    email = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    metadata = MapAttribute(default=dict)
    status = UnicodeAttribute()  # pending | processing | completed | failed | returned
    provider_reference = UnicodeAttribute(null=True)
    failure_code = UnicodeAttribute(null=True)
    failure_message = UnicodeAttribute(null=True)
    return_code = UnicodeAttribute(null=True)
    ach_due = UnicodeAttribute(null=True)
    settles_at = NumberAttribute(null=True)
    # While processing: until when a worker owns the call to the payout provider.
    lease_until = NumberAttribute(null=True)
    notified = UnicodeAttribute(null=True)  # the status the customer was last told about
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)

    by_merchant = DisbursementsByMerchant()
    by_merchant_status = DisbursementsByMerchantStatus()
    by_merchant_customer = DisbursementsByMerchantCustomer()
    ach_due_index = AchDue()
