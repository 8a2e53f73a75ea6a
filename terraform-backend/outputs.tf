output "api_base_url" {
  description = "Base URL of the REST API (the stage's invoke URL); the web tier's API_BASE_URL."
  value       = aws_api_gateway_stage.orders.invoke_url
}

output "api_key_parameter_name" {
  description = "Name of the SSM SecureString parameter that holds the API key, written by `npm run api-key -- create` (not by Terraform); the web tier's API_KEY_PARAMETER. The key itself is never an output."
  value       = local.api_key_parameter_name
}

output "api_key_parameter_arn" {
  description = "ARN of the SSM parameter that holds the API key (built from its name), for IAM policies that read or write it."
  value       = "arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter${local.api_key_parameter_name}"
}

output "api_key_name" {
  description = "Name of the web tier's API Gateway key (or keys, during a rotation), made by `npm run api-key -- create`."
  value       = local.api_key_name
}

output "usage_plan_id" {
  description = "ID of the usage plan the web tier's key belongs to (it carries the throttle); `npm run api-key` finds it by name, or takes it as --usage-plan-id."
  value       = aws_api_gateway_usage_plan.web.id
}

output "queue_url" {
  description = "URL of the orders queue."
  value       = aws_sqs_queue.orders.url
}

output "dead_letter_queue_url" {
  description = "URL of the orders dead-letter queue."
  value       = aws_sqs_queue.orders_dlq.url
}

output "table_name" {
  description = "Name of the DynamoDB orders table."
  value       = aws_dynamodb_table.orders.name
}

output "order_events_topic_arn" {
  description = "ARN of the SNS topic of order events (order.received from process-order, order.status_changed from the kitchen)."
  value       = aws_sns_topic.order_events.arn
}

output "ops_alarms_topic_arn" {
  description = "ARN of the SNS topic the alarms notify."
  value       = aws_sns_topic.ops_alarms.arn
}

output "carts_table_name" {
  description = "Name of the DynamoDB carts table (one cart a customer, deleted by TTL cart_ttl_seconds after its last change)."
  value       = aws_dynamodb_table.carts.name
}

output "products_table_name" {
  description = "Name of the DynamoDB products table (the shop's menu, written by the staff through POST /staff/menu; empty until the first change, read as the seed menu meanwhile)."
  value       = aws_dynamodb_table.products.name
}

output "customer_notifications_queue_url" {
  description = "URL of the queue of order-events' customer mail events, which notify-customer consumes."
  value       = aws_sqs_queue.customer_notifications.url
}

output "customer_notifications_dead_letter_queue_url" {
  description = "URL of the customer notifications' dead-letter queue: customer mails that failed max_receive_count times (inspect and redrive them here)."
  value       = aws_sqs_queue.customer_notifications_dlq.url
}

output "user_pool_id" {
  description = "ID of the Cognito user pool of the customers' accounts; the web tier's cognito_user_pool_id (not a secret)."
  value       = aws_cognito_user_pool.customers.id
}

output "user_pool_client_id" {
  description = "ID of the web tier's app client of the user pool (it has no client secret); the web tier's cognito_client_id."
  value       = aws_cognito_user_pool_client.web.id
}

output "user_pool_issuer" {
  description = "Issuer (iss) of the user pool's tokens, https://cognito-idp.<region>.amazonaws.com/<pool id>; its JWKS is <issuer>/.well-known/jwks.json. The web tier's cognito_issuer."
  value       = "https://${aws_cognito_user_pool.customers.endpoint}"
}

output "customer_mail_identity_arn" {
  description = "ARN of the SES email identity of customer_mail_from; notify-customer may send from it only. Its verification status is in the SES console."
  value       = aws_sesv2_email_identity.customer_mail_from.arn
}

output "lambda_function_names" {
  description = "Function names keyed by their names in platform/functions.ts (submit-order, process-order, get-order, advance-orders, cart, checkout, my-orders, notify-customer); advance-orders also takes the staff commands of the README."
  value       = { for key, function in aws_lambda_function.this : key => function.function_name }
}

output "event_source_mapping_uuid" {
  description = "UUID of the orders queue -> process-order event source mapping."
  value       = aws_lambda_event_source_mapping.orders.uuid
}

output "kitchen_schedule_rule_name" {
  description = "Name of the EventBridge rule that runs the kitchen (advance-orders); disable it to stop orders moving on their own."
  value       = aws_cloudwatch_event_rule.kitchen.name
}

output "kitchen_error_alarm_name" {
  description = "Name of the CloudWatch alarm on the kitchen's errors."
  value       = aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].alarm_name
}

output "alarm_names" {
  description = "Every alarm's name: the two DLQ alarms (orders, customer notifications), the two queues' age alarms, the API's 5xx rate, each table's throttles, SES's bounce and complaint rates, each function's errors and throttles, and a scheduled function's stopping (keyed <function>-errors, <function>-throttles, <function>-stopped)."
  value = merge(
    {
      dlq_not_empty                        = aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_name
      customer_notifications_dlq_not_empty = aws_cloudwatch_metric_alarm.customer_notifications_dlq_not_empty.alarm_name
      orders_backlog                       = aws_cloudwatch_metric_alarm.orders_backlog.alarm_name
      customer_notifications_age           = aws_cloudwatch_metric_alarm.customer_notifications_age.alarm_name
      api_5xx_rate                         = aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name
      ses_bounce_rate                      = aws_cloudwatch_metric_alarm.ses_bounce_rate.alarm_name
      ses_complaint_rate                   = aws_cloudwatch_metric_alarm.ses_complaint_rate.alarm_name
    },
    { for key, alarm in aws_cloudwatch_metric_alarm.table_throttles : "${key}-table-throttles" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.schedule_stopped : "${key}-stopped" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.lambda_errors : "${key}-errors" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.lambda_throttles : "${key}-throttles" => alarm.alarm_name },
  )
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the pipeline (business metrics, API, functions, queues, table, web tier)."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}

output "api_stage_arn" {
  description = "ARN of the API stage (what the WAF web ACL is associated with)."
  value       = aws_api_gateway_stage.orders.arn
}

output "api_waf_log_group_name" {
  description = "CloudWatch log group of WAF's request log for the API (x-api-key, Authorization and cookies redacted); null with waf_enabled = false."
  value       = one(module.api_waf[*].log_group_name)
}

output "api_web_acl_arn" {
  description = "ARN of the WAF web ACL protecting the API stage; null with waf_enabled = false."
  value       = one(module.api_waf[*].arn)
}

output "api_access_log_group_name" {
  description = "CloudWatch log group of the API's JSON access logs (one line a request)."
  value       = aws_cloudwatch_log_group.api_access.name
}
