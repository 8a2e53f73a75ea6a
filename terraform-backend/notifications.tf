# CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key, so both topics use
# this customer-managed key, whose policy lets CloudWatch and SNS use it.
resource "aws_kms_key" "notifications" {
  description             = "${var.name_prefix}order-pipeline SNS topics"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days

  # In a key policy, Resource "*" means this key and nothing else.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        # Listed rather than kms:*, so no IAM policy in the account can grant Encrypt, ReEncrypt or
        # key material import on this key (the same list as cloudformation/backend.yaml).
        Action = [
          "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
          "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
          "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
          "kms:ListKeyPolicies", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant",
          "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
          "kms:UpdateKeyDescription",
        ]
        Resource = "*"
      },
      {
        # Grants only for AWS services, or for AWS resources that use the key (Control Tower's
        # CT.KMS.PR.2): no principal can hand the key's use to another principal.
        Sid       = "DenyGrantsExceptForAwsResources"
        Effect    = "Deny"
        Principal = "*"
        Action    = "kms:CreateGrant"
        Resource  = "*"
        Condition = { BoolIfExists = { "kms:GrantIsForAWSResource" = "false", "aws:PrincipalIsAWSService" = "false" } }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopics"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "SnsDeliversFromEncryptedTopics"
        Effect    = "Allow"
        Principal = { Service = "sns.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_kms_alias" "notifications" {
  name          = "alias/${var.name_prefix}order-pipeline-notifications"
  target_key_id = aws_kms_key.notifications.key_id
}

resource "aws_sns_topic" "ops_alarms" {
  name              = "${var.name_prefix}${var.ops_alarms_topic_name}"
  kms_master_key_id = aws_kms_key.notifications.arn
}

resource "aws_sns_topic_subscription" "ops_alarms_email" {
  topic_arn = aws_sns_topic.ops_alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_sns_topic" "order_events" {
  name              = "${var.name_prefix}${var.order_events_topic_name}"
  kms_master_key_id = aws_kms_key.notifications.arn
}

resource "aws_sns_topic_subscription" "order_events_email" {
  count = var.order_events_email == null ? 0 : 1

  topic_arn = aws_sns_topic.order_events.arn
  protocol  = "email"
  endpoint  = var.order_events_email
  # One mail per order, not one per status change: only order.received passes (the kitchen's
  # order.status_changed events are for the web tier and other subscribers).
  filter_policy_scope = "MessageAttributes"
  filter_policy       = jsonencode({ event_type = ["order.received"] })
}

# Orders that failed maxReceiveCount times: someone has to look.
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${var.name_prefix}${var.dlq_alarm_name}"
  alarm_description   = "Orders reached ${aws_sqs_queue.orders_dlq.name} after ${var.max_receive_count} failed receives."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.orders_dlq.name }
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.dlq_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

# A backlog that is not draining (process-order failing or throttled) shows here before the DLQ does.
resource "aws_cloudwatch_metric_alarm" "orders_backlog" {
  alarm_name          = "${var.name_prefix}${var.queue_name}-oldest-message-age"
  alarm_description   = "The oldest message in ${aws_sqs_queue.orders.name} is older than ${var.queue_age_alarm_threshold_seconds} s."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.orders.name }
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.queue_age_alarm_threshold_seconds
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}
