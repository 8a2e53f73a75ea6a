# Alarms on what the functions and the API do, all to ops-alarms, on ALARM and on OK. The queue's
# alarms are in notifications.tf.

# Every function, so a new one in platform/functions.json is watched without a new block. A failed
# kitchen run stops every order where it is; a failed submit-order is a customer's order refused.
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.functions

  alarm_name          = "${var.name_prefix}${each.key}-errors"
  alarm_description   = "${aws_lambda_function.this[each.key].function_name} failed ${var.lambda_error_alarm_threshold} or more invocations in ${var.alarm_period_seconds} s. Its log group (/aws/lambda/${aws_lambda_function.this[each.key].function_name}) and traces say why."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.lambda_error_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  # No invocation in a period (no traffic, the schedule disabled) is no error.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.ops_alarms.arn]
  ok_actions         = [aws_sns_topic.ops_alarms.arn]
}

# Throttled invocations: the account's or the function's concurrency is exhausted (for process-order,
# the event source mapping's maximum concurrency holds it below that).
resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = local.functions

  alarm_name          = "${var.name_prefix}${each.key}-throttles"
  alarm_description   = "${aws_lambda_function.this[each.key].function_name} was throttled ${var.lambda_throttle_alarm_threshold} or more times in ${var.alarm_period_seconds} s: concurrency is exhausted."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.lambda_throttle_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

# The share of requests answered 5xx: 5XXError is 0 or 1 a request, so its Average is the rate.
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name_prefix}orders-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_rate_alarm_threshold * 100}% of requests to ${aws_api_gateway_rest_api.orders.name} stage ${aws_api_gateway_stage.orders.stage_name} answered 5xx in ${var.alarm_period_seconds} s. The access log group (${aws_cloudwatch_log_group.api_access.name}) has each request's status and error."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = aws_api_gateway_rest_api.orders.name, Stage = aws_api_gateway_stage.orders.stage_name }
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_rate_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

# Throttled reads and writes of each table. On-demand tables throttle only past double their previous
# peak or on a hot partition; the SDK retries them, but each is a slower order, cart or checkout.
resource "aws_cloudwatch_metric_alarm" "table_throttles" {
  for_each = { orders = aws_dynamodb_table.orders.name, carts = aws_dynamodb_table.carts.name, products = aws_dynamodb_table.products.name }

  alarm_name          = "${each.value}-table-throttles"
  alarm_description   = "DynamoDB throttled ${var.table_throttle_alarm_threshold} or more reads and writes of ${each.value} in ${var.alarm_period_seconds} s. Threshold: an on-demand table should never throttle, so any throttle means a hot partition or a peak past double the last one."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.table_throttle_alarm_threshold
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]

  metric_query {
    id          = "throttles"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "Throttled reads and writes"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { reads = "ReadThrottleEvents", writes = "WriteThrottleEvents" }

    content {
      id = metric_query.key

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value
        dimensions  = { TableName = each.value }
        stat        = "Sum"
        period      = var.alarm_period_seconds
      }
    }
  }
}

# The account's SES reputation, which every customer mail (notify-customer, and Cognito's codes when
# they go through SES) depends on. SES computes the rates over its own window and updates them a few
# times an hour, so an hour's Maximum; no mail sent is no data, which is no alarm.
resource "aws_cloudwatch_metric_alarm" "ses_bounce_rate" {
  alarm_name          = "${var.name_prefix}ses-bounce-rate"
  alarm_description   = "The account's SES bounce rate reached ${var.ses_bounce_rate_alarm_threshold * 100}%. Threshold: SES puts an account under review at 5% and may pause its sending at 10%; this leaves time to find the bad addresses (notify-customer's log group) before then."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.BounceRate"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.ses_bounce_rate_alarm_threshold
  period              = 3600
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "ses_complaint_rate" {
  alarm_name          = "${var.name_prefix}ses-complaint-rate"
  alarm_description   = "The account's SES complaint rate reached ${var.ses_complaint_rate_alarm_threshold * 100}%. Threshold: SES puts an account under review at 0.1% and may pause its sending at 0.5%; this leaves time to act before then."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.ComplaintRate"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.ses_complaint_rate_alarm_threshold
  period              = 3600
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

locals {
  # The kitchen's schedule in seconds when it is a rate(); a cron() is left to whoever writes it.
  kitchen_rate             = try(regex("^rate\\((\\d+) (minute|hour|day)s?\\)$", var.kitchen_schedule_expression), null)
  kitchen_schedule_seconds = local.kitchen_rate == null ? null : tonumber(local.kitchen_rate[0]) * { minute = 60, hour = 3600, day = 86400 }[local.kitchen_rate[1]]
  # CloudWatch's longest period is a day.
  kitchen_stopped_period_seconds = coalesce(var.kitchen_stopped_alarm_period_seconds, local.kitchen_schedule_seconds == null ? 3600 : min(86400, 5 * local.kitchen_schedule_seconds))
  # The deployed functions a schedule runs (the kitchen; its rule is kitchen_schedule_expression's).
  scheduled_functions = { for name, fn in aws_lambda_function.this : name => fn.function_name if local.declared_functions[name].trigger.type == "schedule" }
}

# A kitchen that has stopped: no run at all moves no order on, and raises no error for the alarm on its
# errors. The schedule disabled or deleted, or the invoke permission gone, shows only here.
resource "aws_cloudwatch_metric_alarm" "schedule_stopped" {
  for_each = local.scheduled_functions

  alarm_name          = "${each.value}-stopped"
  alarm_description   = "${each.value} did not run in ${local.kitchen_stopped_period_seconds} s, on a schedule of ${var.kitchen_schedule_expression}. ${local.functions[each.key].description} Threshold: fewer than one run in several periods of its schedule, so one late run is no alarm; no data is no run, so it breaches. Check the rule ${aws_cloudwatch_event_rule.kitchen.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Invocations"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  period              = local.kitchen_stopped_period_seconds
  evaluation_periods  = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]

  lifecycle {
    precondition {
      condition     = local.kitchen_stopped_period_seconds >= min(86400, 2 * coalesce(local.kitchen_schedule_seconds, 0))
      error_message = "kitchen_stopped_alarm_period_seconds must be at least twice the period of kitchen_schedule_expression, or every late run raises the alarm."
    }
  }
}

# Customer mails waiting: notify-customer failing, throttled or held by SES's sending rate. The customer
# DLQ's alarm shows mails given up on; this shows them late.
resource "aws_cloudwatch_metric_alarm" "customer_notifications_age" {
  alarm_name          = "${aws_sqs_queue.customer_notifications.name}-oldest-message-age"
  alarm_description   = "The oldest mail in ${aws_sqs_queue.customer_notifications.name} is older than ${var.customer_notifications_age_alarm_threshold_seconds} s. Threshold: an order's READY step lasts 300 s by default, so a mail older than that tells the customer of a status already passed."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.customer_notifications.name }
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.customer_notifications_age_alarm_threshold_seconds
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops_alarms.arn]
  ok_actions          = [aws_sns_topic.ops_alarms.arn]
}

locals {
  # The business metrics the functions emit with Powertools Metrics, [function, metric], as the
  # dashboard's two order widgets show them: orders are accepted by the API's integrations
  # (submit-order) and by the shop's checkouts (checkout).
  business_metrics = {
    flow     = [["submit-order", "OrdersAccepted"], ["checkout", "OrdersAccepted"], ["process-order", "OrdersStored"], ["advance-orders", "StatusChanges"], ["staff-orders", "StatusChanges"]]
    failures = [["process-order", "OrdersFailed"], ["process-order", "OrdersDeadLettered"], ["my-orders", "OrdersCancelled"], ["advance-orders", "OrdersCancelled"], ["staff-orders", "OrdersCancelled"]]
  }
  dashboard_region = var.aws_region
  function_names   = { for key, function in aws_lambda_function.this : key => function.function_name }
}

# One page for the pipeline: what customers did (business metrics), then each service that carries it.
# The web tier's load balancer is found by its name in a SEARCH expression, so the dashboard needs no
# output of the frontend module, which is applied after this one.
resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = "${var.name_prefix}order-pipeline"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "text", x = 0, y = 0, width = 24, height = 2
        properties = {
          markdown = "## Order pipeline${var.name_prefix == "" ? "" : " (${var.name_prefix})"}\nTop row: orders as the functions count them (namespace ${local.metrics_namespace}, Sum a minute). Below: the API, the functions, the queues and the table, then the web tier's load balancer, then the tables' throttles, the kitchen's runs and the customers' mail. Alarms notify ${aws_sns_topic.ops_alarms.name}."
        }
      },
      {
        type = "metric", x = 0, y = 2, width = 12, height = 6
        properties = {
          title   = "Orders: accepted, stored, status changes"
          region  = local.dashboard_region
          stat    = "Sum"
          period  = 60
          view    = "timeSeries"
          metrics = [for pair in local.business_metrics.flow : [local.metrics_namespace, pair[1], "service", pair[0]]]
        }
      },
      {
        type = "metric", x = 12, y = 2, width = 12, height = 6
        properties = {
          title   = "Orders: failed receives, dead-lettered, cancelled (my-orders: by customers; advance-orders: staff commands; staff-orders: the staff's board)"
          region  = local.dashboard_region
          stat    = "Sum"
          period  = 60
          view    = "timeSeries"
          metrics = [for pair in local.business_metrics.failures : [local.metrics_namespace, pair[1], "service", pair[0]]]
        }
      },
      {
        type = "metric", x = 0, y = 8, width = 12, height = 6
        properties = {
          title  = "API: requests, 4xx, 5xx"
          region = local.dashboard_region
          stat   = "Sum"
          period = 60
          metrics = [
            for metric in ["Count", "4XXError", "5XXError"] : ["AWS/ApiGateway", metric, "ApiName", aws_api_gateway_rest_api.orders.name, "Stage", aws_api_gateway_stage.orders.stage_name]
          ]
        }
      },
      {
        type = "metric", x = 12, y = 8, width = 12, height = 6
        properties = {
          title  = "API: latency p99 (total and integration), ms"
          region = local.dashboard_region
          stat   = "p99"
          period = 60
          metrics = [
            for metric in ["Latency", "IntegrationLatency"] : ["AWS/ApiGateway", metric, "ApiName", aws_api_gateway_rest_api.orders.name, "Stage", aws_api_gateway_stage.orders.stage_name]
          ]
        }
      },
      {
        type = "metric", x = 0, y = 14, width = 8, height = 6
        properties = {
          title   = "Lambda: errors"
          region  = local.dashboard_region
          stat    = "Sum"
          period  = 60
          metrics = [for key in sort(keys(local.function_names)) : ["AWS/Lambda", "Errors", "FunctionName", local.function_names[key]]]
        }
      },
      {
        type = "metric", x = 8, y = 14, width = 8, height = 6
        properties = {
          title   = "Lambda: throttles"
          region  = local.dashboard_region
          stat    = "Sum"
          period  = 60
          metrics = [for key in sort(keys(local.function_names)) : ["AWS/Lambda", "Throttles", "FunctionName", local.function_names[key]]]
        }
      },
      {
        type = "metric", x = 16, y = 14, width = 8, height = 6
        properties = {
          title   = "Lambda: duration p99, ms"
          region  = local.dashboard_region
          stat    = "p99"
          period  = 60
          metrics = [for key in sort(keys(local.function_names)) : ["AWS/Lambda", "Duration", "FunctionName", local.function_names[key]]]
        }
      },
      {
        type = "metric", x = 0, y = 20, width = 12, height = 6
        properties = {
          title  = "Queues: orders waiting, oldest age (s), dead letters"
          region = local.dashboard_region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.orders.name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.orders.name, { yAxis = "right" }],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.orders_dlq.name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 20, width = 12, height = 6
        properties = {
          title  = "Table: consumed capacity and throttled requests"
          region = local.dashboard_region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", aws_dynamodb_table.orders.name],
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", aws_dynamodb_table.orders.name],
            ["AWS/DynamoDB", "ThrottledRequests", "TableName", aws_dynamodb_table.orders.name, "Operation", "PutItem", { yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 26, width = 12, height = 6
        properties = {
          title  = "Web tier load balancer: requests and 5xx"
          region = local.dashboard_region
          period = 60
          metrics = [
            [{ expression = "SEARCH('{AWS/ApplicationELB,LoadBalancer} MetricName=\"RequestCount\" \"${var.name_prefix}order-web\"', 'Sum', 60)", id = "requests", label = "requests" }],
            [{ expression = "SEARCH('{AWS/ApplicationELB,LoadBalancer} MetricName=\"HTTPCode_ELB_5XX_Count\" \"${var.name_prefix}order-web\"', 'Sum', 60)", id = "elb5xx", label = "5xx from the load balancer" }],
            [{ expression = "SEARCH('{AWS/ApplicationELB,LoadBalancer} MetricName=\"HTTPCode_Target_5XX_Count\" \"${var.name_prefix}order-web\"', 'Sum', 60)", id = "target5xx", label = "5xx from the instances" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 26, width = 12, height = 6
        properties = {
          title  = "Web tier: healthy and unhealthy instances"
          region = local.dashboard_region
          period = 60
          metrics = [
            [{ expression = "SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName=\"HealthyHostCount\" \"${var.name_prefix}order-web\"', 'Minimum', 60)", id = "healthy", label = "healthy" }],
            [{ expression = "SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName=\"UnHealthyHostCount\" \"${var.name_prefix}order-web\"', 'Maximum', 60)", id = "unhealthy", label = "unhealthy" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 32, width = 8, height = 6
        properties = {
          title  = "Tables: throttled reads and writes"
          region = local.dashboard_region
          stat   = "Sum"
          period = 60
          metrics = [
            for pair in setproduct([aws_dynamodb_table.orders.name, aws_dynamodb_table.carts.name, aws_dynamodb_table.products.name], ["ReadThrottleEvents", "WriteThrottleEvents"]) : ["AWS/DynamoDB", pair[1], "TableName", pair[0]]
          ]
        }
      },
      {
        type = "metric", x = 8, y = 32, width = 8, height = 6
        properties = {
          title   = "Kitchen: runs"
          region  = local.dashboard_region
          stat    = "Sum"
          period  = 60
          metrics = [for key in sort(keys(local.scheduled_functions)) : ["AWS/Lambda", "Invocations", "FunctionName", local.scheduled_functions[key]]]
        }
      },
      {
        type = "metric", x = 16, y = 32, width = 8, height = 6
        properties = {
          title  = "Customer mail: oldest waiting (s), SES bounce and complaint rates"
          region = local.dashboard_region
          stat   = "Maximum"
          period = 300
          metrics = [
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.customer_notifications.name],
            ["AWS/SES", "Reputation.BounceRate", { yAxis = "right" }],
            ["AWS/SES", "Reputation.ComplaintRate", { yAxis = "right" }],
          ]
        }
      },
      {
        type = "alarm", x = 0, y = 38, width = 24, height = 4
        properties = {
          title = "Alarms"
          alarms = concat(
            [aws_cloudwatch_metric_alarm.dlq_not_empty.arn, aws_cloudwatch_metric_alarm.orders_backlog.arn, aws_cloudwatch_metric_alarm.api_5xx_rate.arn],
            [for key in sort(keys(local.function_names)) : aws_cloudwatch_metric_alarm.lambda_errors[key].arn],
            [for key in sort(keys(local.function_names)) : aws_cloudwatch_metric_alarm.lambda_throttles[key].arn],
            [aws_cloudwatch_metric_alarm.table_throttles["orders"].arn, aws_cloudwatch_metric_alarm.table_throttles["carts"].arn, aws_cloudwatch_metric_alarm.table_throttles["products"].arn],
            [for key in sort(keys(local.scheduled_functions)) : aws_cloudwatch_metric_alarm.schedule_stopped[key].arn],
            [aws_cloudwatch_metric_alarm.customer_notifications_age.arn, aws_cloudwatch_metric_alarm.ses_bounce_rate.arn, aws_cloudwatch_metric_alarm.ses_complaint_rate.arn],
          )
        }
      },
    ]
  })
}
