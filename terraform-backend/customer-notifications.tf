# The customer's mail at every step: order-events' order.received and order.status_changed reach this
# queue (raw, filtered by SNS), notify-customer reads each order and mails its customer through SES.
# A queue between the topic and the function, rather than SNS invoking it, so that a mail SES refuses
# is retried with the queue's backoff and, after max_receive_count receives, kept in the DLQ.

resource "aws_sqs_queue" "customer_notifications_dlq" {
  name                      = "${var.name_prefix}${var.customer_notifications_dead_letter_queue_name}"
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "customer_notifications" {
  name                       = "${var.name_prefix}${var.customer_notifications_queue_name}"
  visibility_timeout_seconds = var.queue_visibility_timeout_seconds
  message_retention_seconds  = var.queue_message_retention_seconds
  # SSE-SQS: SNS delivers into it with no key policy to carry (a KMS-encrypted queue would need one).
  sqs_managed_sse_enabled = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.customer_notifications_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = var.queue_visibility_timeout_seconds >= 6 * local.functions["notify-customer"].timeout_seconds
      error_message = "queue_visibility_timeout_seconds must be at least 6 x the notify-customer timeout, or mails are sent twice while still being sent."
    }
  }
}

# Only the customer notifications queue may use its DLQ.
resource "aws_sqs_queue_redrive_allow_policy" "customer_notifications_dlq" {
  queue_url = aws_sqs_queue.customer_notifications_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.customer_notifications.arn]
  })
}

# Only order-events may send to the queue.
resource "aws_sqs_queue_policy" "customer_notifications" {
  queue_url = aws_sqs_queue.customer_notifications.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OrderEventsDelivers"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.customer_notifications.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.order_events.arn } }
    }]
  })
}

resource "aws_sns_topic_subscription" "customer_notifications" {
  # Subscribed once the queue accepts the topic's messages, so none is lost in between.
  depends_on = [aws_sqs_queue_policy.customer_notifications]

  topic_arn = aws_sns_topic.order_events.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.customer_notifications.arn
  # The message is the event itself, its attributes (order_id, status, event_id) SQS message attributes.
  raw_message_delivery = true
  filter_policy_scope  = "MessageAttributes"
  # Only events of orders with an address to mail: an integration's orders never wake notify-customer.
  filter_policy = jsonencode({ event_type = ["order.received", "order.status_changed"], customer_mail = ["true"] })
}

resource "aws_lambda_event_source_mapping" "customer_notifications" {
  event_source_arn = aws_sqs_queue.customer_notifications.arn
  function_name    = aws_lambda_function.this["notify-customer"].arn
  # The declaration's (platform/functions.ts, notify-customer): two mails at a time at most, so a
  # burst of status changes stays within SES's sending rate.
  batch_size                         = 10
  maximum_batching_window_in_seconds = 0
  # Only the failed messages of a batch return to the queue; the customers already mailed are not mailed again.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }
}

# The sender: SES mails a verification link to it, and sends from it only once it is clicked.
resource "aws_sesv2_email_identity" "customer_mail_from" {
  email_identity = var.customer_mail_from
}

# Customer mails that failed max_receive_count times: customers are waiting for news of their order.
resource "aws_cloudwatch_metric_alarm" "customer_notifications_dlq_not_empty" {
  alarm_name          = "${var.name_prefix}${var.customer_notifications_dead_letter_queue_name}-not-empty"
  alarm_description   = "Customer mails reached ${aws_sqs_queue.customer_notifications_dlq.name} after ${var.max_receive_count} failed receives; notify-customer's log group says why."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.customer_notifications_dlq.name }
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.dlq_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}
