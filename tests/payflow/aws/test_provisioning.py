import json

import pytest
from django.core.management import call_command
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from payflow.aws import dynamodb
from payflow.aws.clients import aws_client
from payflow.aws.provisioning import aws_resources_provision


class ByOwner(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)


class Widget(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    by_owner = ByOwner()


class WidgetWithoutIndex(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)


@pytest.fixture
def widget_table(monkeypatch):
    monkeypatch.setattr(dynamodb, "TABLES", {})
    return dynamodb.table("widgets")(Widget)


def actions(changes) -> dict[str, str]:
    return {change.name: change.action for change in changes}


def test_first_run_creates_every_resource_and_the_second_changes_nothing(aws, widget_table):
    first = actions(aws_resources_provision())
    assert first["payflow-test-widgets"] == "created"
    second = aws_resources_provision()
    assert {change.action for change in second} == {"unchanged"}
    assert [change.name for change in second] == list(first)


def test_queues_dead_letter_after_three_receives_and_dlqs_keep_messages_14_days(aws):
    sqs = aws_client("sqs")
    for queue in ("payments", "webhooks", "settlement"):
        url = sqs.get_queue_url(QueueName=f"payflow-test-{queue}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        policy = json.loads(attributes["RedrivePolicy"])
        assert int(policy["maxReceiveCount"]) == 3
        assert policy["deadLetterTargetArn"].endswith(f"payflow-test-{queue}-dlq")
        dlq_url = sqs.get_queue_url(QueueName=f"payflow-test-{queue}-dlq")["QueueUrl"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["MessageRetentionPeriod"])
        assert dlq["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_a_drifted_queue_is_put_back(aws):
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName="payflow-test-webhooks")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    assert actions(aws_resources_provision())["payflow-test-webhooks"] == "updated"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] != "5"


def test_a_missing_bucket_is_created_again(aws):
    aws_client("s3").delete_bucket(Bucket="payflow-test-files")
    assert actions(aws_resources_provision())["payflow-test-files"] == "created"
    aws_client("s3").head_bucket(Bucket="payflow-test-files")


def test_an_index_added_to_a_model_is_added_to_its_existing_table(aws, monkeypatch):
    monkeypatch.setattr(dynamodb, "TABLES", {})
    dynamodb.table("widgets")(WidgetWithoutIndex)
    aws_resources_provision()

    monkeypatch.setattr(dynamodb, "TABLES", {})
    dynamodb.table("widgets")(Widget)
    assert actions(aws_resources_provision())["payflow-test-widgets"] == "updated"
    Widget(id="w1", owner="ann").save()
    assert [w.id for w in Widget.by_owner.query("ann")] == ["w1"]


def test_two_models_cannot_claim_one_table(widget_table):
    with pytest.raises(ValueError, match="widgets"):
        dynamodb.table("widgets")(WidgetWithoutIndex)


def test_command_reports_what_it_did(aws, capsys):
    total = len(dynamodb.TABLES) + 2 * 3 + 1
    call_command("provision_aws")
    assert f"Nothing to change: all {total} resources are up to date." in capsys.readouterr().out
    aws_client("s3").delete_bucket(Bucket="payflow-test-files")
    call_command("provision_aws")
    out = capsys.readouterr().out
    assert "payflow-test-files" in out
    assert f"Provisioned: 1 of {total} resources created or updated." in out


def test_tables_follow_the_settings(aws, widget_table, settings):
    assert Widget.Meta.table_name == "payflow-test-widgets"
    settings.PAYFLOW_ENV = "other"
    assert Widget.Meta.table_name == "payflow-other-widgets"
