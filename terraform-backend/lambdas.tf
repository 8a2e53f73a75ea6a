resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name = local.lambda_role_names[each.key]
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  lifecycle {
    # A new name (the region was added to it) replaces the role: the new one first, so a function
    # never runs with a deleted role.
    create_before_destroy = true

    # Only a region code longer than any AWS has can get here; IAM would refuse it at apply.
    precondition {
      condition     = length(local.lambda_role_names[each.key]) <= 64
      error_message = "The role name ${local.lambda_role_names[each.key]} is longer than IAM's 64 characters: aws_region is not a region code."
    }
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions

  # The group Lambda writes to by default, made here so it has a retention. Encrypted at rest by
  # CloudWatch Logs by default.
  name              = "/aws/lambda/${var.name_prefix}${each.key}"
  retention_in_days = var.log_retention_days
}

# Each function writes to its own log group only (no logs:CreateLogGroup: Terraform owns the group).
resource "aws_iam_role_policy" "lambda_logs" {
  for_each = local.functions

  name = "write-own-logs"
  role = aws_iam_role.lambda[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.lambda[each.key].arn}:*"
    }]
  })
}

# Active tracing: Lambda samples each invocation into X-Ray, and Powertools Tracer in the functions
# adds their AWS SDK calls as subsegments.
resource "aws_iam_role_policy" "lambda_tracing" {
  for_each = local.functions

  name = "write-traces"
  role = aws_iam_role.lambda[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      # The X-Ray write actions take no resource-level permissions: "*" is the only form AWS accepts.
      Resource = "*"
    }]
  })
}

# Each function's own grants, as declared (platform/functions.json): an action on a named resource,
# every one scoped to that resource's ARN.
resource "aws_iam_role_policy" "grants" {
  for_each = { for name, f in local.functions : name => f if length(f.permissions) > 0 }

  name = "grants"
  role = aws_iam_role.lambda[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [for p in each.value.permissions : merge(
      { Sid = p.sid, Effect = "Allow", Action = p.actions, Resource = local.permission_resources[p.on] },
      { for key, condition in { Condition = lookup(local.permission_conditions, p.on, null) } : key => condition if condition != null },
    )]
  })

  # On the first apply after the policies were renamed (moved.tf), the new one is in place before the
  # old one goes, so a function is never without its grants.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda_logs,
    aws_iam_role_policy.lambda_tracing,
    aws_iam_role_policy.grants,
  ]

  function_name    = "${var.name_prefix}${each.key}"
  description      = each.value.description
  role             = aws_iam_role.lambda[each.key].arn
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  handler          = "index.handler"
  filename         = "${local.lambda_package_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${local.lambda_package_dir}/${each.key}.zip")
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout_seconds

  tracing_config {
    mode = "Active"
  }

  # Powertools: the service is the function's declared name (the `service` dimension of its business
  # metrics), and every metric goes to one namespace, which the dashboard reads.
  environment {
    variables = merge({ for variable, ref in each.value.environment : variable => local.environment_values[ref] }, {
      POWERTOOLS_SERVICE_NAME      = each.key
      POWERTOOLS_LOG_LEVEL         = var.log_level
      POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    })
  }
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn                   = aws_sqs_queue.orders.arn
  function_name                      = aws_lambda_function.this["process-order"].arn
  batch_size                         = var.event_source_batch_size
  maximum_batching_window_in_seconds = local.queue_type.maximum_batching_window_in_seconds
  # Only the failed messages of a batch return to the queue; the rest are deleted.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.event_source_maximum_concurrency
  }

  lifecycle {
    # AWS refuses larger batches from a FIFO queue at apply; fail at plan instead (mappingSettings does the same locally).
    precondition {
      condition     = var.queue_type != "fifo" || var.event_source_batch_size <= 10
      error_message = "event_source_batch_size must be at most 10 with queue_type = fifo."
    }
  }
}

# The kitchen's clock: EventBridge invokes advance-orders on the schedule. Runs that overlap are safe
# (every advance is conditional), so a slow run needs no lock.
resource "aws_cloudwatch_event_rule" "kitchen" {
  name                = "${var.name_prefix}advance-orders-schedule"
  description         = "Runs the kitchen (advance-orders), which moves due orders to their next status."
  schedule_expression = var.kitchen_schedule_expression
}

resource "aws_cloudwatch_event_target" "kitchen" {
  rule      = aws_cloudwatch_event_rule.kitchen.name
  target_id = "advance-orders"
  arn       = aws_lambda_function.this["advance-orders"].arn
}

# Only this rule may invoke the kitchen through EventBridge, not any rule of any account.
resource "aws_lambda_permission" "kitchen_schedule" {
  statement_id   = "AllowEventBridgeKitchenSchedule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["advance-orders"].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.kitchen.arn
  source_account = local.account_id
}
