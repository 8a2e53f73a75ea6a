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

locals {
  # The business metrics the functions emit with Powertools Metrics, [function, metric], as the
  # dashboard's two order widgets show them: orders are accepted by the API's integrations
  # (submit-order) and by the shop's checkouts (checkout).
  business_metrics = {
    flow     = [["submit-order", "OrdersAccepted"], ["checkout", "OrdersAccepted"], ["process-order", "OrdersStored"], ["advance-orders", "StatusChanges"]]
    failures = [["process-order", "OrdersFailed"], ["process-order", "OrdersDeadLettered"]]
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
          markdown = "## Order pipeline${var.name_prefix == "" ? "" : " (${var.name_prefix})"}\nTop row: orders as the functions count them (namespace ${local.metrics_namespace}, Sum a minute). Below: the API, the functions, the queues and the table, then the web tier's load balancer. Alarms notify ${aws_sns_topic.ops_alarms.name}."
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
          title   = "Orders: failed receives, dead-lettered"
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
        type = "alarm", x = 0, y = 32, width = 24, height = 4
        properties = {
          title = "Alarms"
          alarms = concat(
            [aws_cloudwatch_metric_alarm.dlq_not_empty.arn, aws_cloudwatch_metric_alarm.orders_backlog.arn, aws_cloudwatch_metric_alarm.api_5xx_rate.arn],
            [for key in sort(keys(local.function_names)) : aws_cloudwatch_metric_alarm.lambda_errors[key].arn],
            [for key in sort(keys(local.function_names)) : aws_cloudwatch_metric_alarm.lambda_throttles[key].arn],
          )
        }
      },
    ]
  })
}
