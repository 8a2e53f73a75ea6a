resource "aws_sqs_queue" "orders_dlq" {
  name                      = "${var.name_prefix}${var.dead_letter_queue_name}"
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "orders" {
  name                       = "${var.name_prefix}${var.queue_name}"
  visibility_timeout_seconds = var.queue_visibility_timeout_seconds
  message_retention_seconds  = var.queue_message_retention_seconds
  receive_wait_time_seconds  = var.queue_receive_wait_time_seconds
  # SSE-SQS: encrypted at rest with no key policy for producers and consumers to carry.
  sqs_managed_sse_enabled = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = var.queue_visibility_timeout_seconds >= 6 * var.lambda_functions["process-order"].timeout_seconds
      error_message = "queue_visibility_timeout_seconds must be at least 6 x the process-order timeout, or messages are redelivered while still being processed."
    }
  }
}

# Only the orders queue may use the DLQ.
resource "aws_sqs_queue_redrive_allow_policy" "orders_dlq" {
  queue_url = aws_sqs_queue.orders_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.orders.arn]
  })
}
