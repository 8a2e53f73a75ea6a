locals {
  # What the queue type changes, in one place (test/iac/parity.test.ts reads it for both types, against
  # CloudFormation's QueueType and the local QUEUE_TYPE). SQS requires a FIFO queue's name to end in
  # .fifo, and a FIFO queue's DLQ to be FIFO too; a FIFO event source mapping takes no batching window
  # (platform/functions.ts mappingSettings), so it is left unset rather than 0.
  queue_types = {
    standard = {
      name_suffix                        = ""
      fifo_queue                         = false
      maximum_batching_window_in_seconds = var.event_source_maximum_batching_window_seconds
    }
    fifo = {
      name_suffix                        = ".fifo"
      fifo_queue                         = true
      maximum_batching_window_in_seconds = null
    }
  }
  queue_type = local.queue_types[var.queue_type]
}

resource "aws_sqs_queue" "orders_dlq" {
  name                      = "${var.name_prefix}${var.dead_letter_queue_name}${local.queue_type.name_suffix}"
  fifo_queue                = local.queue_type.fifo_queue
  message_retention_seconds = var.dead_letter_queue_message_retention_seconds
  sqs_managed_sse_enabled   = true
  # Off on either type (a standard queue has none): on FIFO, deduplication is by the id each message
  # carries (submit-order's order id; the DLQ tool's redrive uses the dead letter's message id).
  content_based_deduplication = false
}

resource "aws_sqs_queue" "orders" {
  name                       = "${var.name_prefix}${var.queue_name}${local.queue_type.name_suffix}"
  fifo_queue                 = local.queue_type.fifo_queue
  visibility_timeout_seconds = var.queue_visibility_timeout_seconds
  message_retention_seconds  = var.queue_message_retention_seconds
  receive_wait_time_seconds  = var.queue_receive_wait_time_seconds
  # SSE-SQS: encrypted at rest with no key policy for producers and consumers to carry.
  sqs_managed_sse_enabled = true
  # Never the body's hash: two orders with the same lines are two orders. On FIFO, submit-order's
  # MessageDeduplicationId (the order id) deduplicates, as the Idempotency-Key does.
  content_based_deduplication = false

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = var.queue_visibility_timeout_seconds >= 6 * local.functions["process-order"].timeout_seconds
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
