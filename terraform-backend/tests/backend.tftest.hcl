# Mocked AWS: no credentials, no network. Values only AWS knows (ARNs, URLs) come from the
# defaults below; ARN-shaped because the provider validates them.
# Every run plans and none applies: the tables and the user pool carry prevent_destroy, and terraform
# test destroys what apply runs made when the file ends, which prevent_destroy refuses (Terraform
# 1.11 has no way to skip that cleanup). override_during = plan gives the plan the mocked values an
# apply would have had, so the assertions read ARNs, ids and URLs as before.
mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock-role" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:mock-queue"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/mock-queue"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mock-topic" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/mock-table" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mock/invocations"
    }
  }
  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn    = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234"
      root_resource_id = "rootid1234"
    }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = {
      invoke_url = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"
      arn        = "arn:aws:apigateway:us-east-1::/restapis/abcdef1234/stages/v1"
    }
  }
  mock_resource "aws_api_gateway_usage_plan" {
    defaults = { id = "usageplan1" }
  }
  mock_resource "aws_api_gateway_authorizer" {
    defaults = { id = "authorizer1" }
  }
  mock_resource "aws_cognito_user_pool_client" {
    defaults = { id = "mockclient1234" }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/orders-api/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:us-east-1:123456789012:rule/mock-rule" }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id       = "us-east-1_Mock12345"
      arn      = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Mock12345"
      endpoint = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Mock12345"
    }
  }
  mock_resource "aws_sesv2_email_identity" {
    defaults = { arn = "arn:aws:ses:us-east-1:123456789012:identity/orders@shop.example" }
  }
}

variables {
  alarm_email        = "ops@example.com"
  customer_mail_from = "orders@shop.example"
  lambda_package_dir = "tests/fixtures"
}

run "queues_redrive_to_an_encrypted_dlq" {
  command = plan

  assert {
    condition     = jsondecode(aws_sqs_queue.orders.redrive_policy).maxReceiveCount == 5
    error_message = "orders must move a message to the DLQ after 5 receives."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.orders.redrive_policy).deadLetterTargetArn == aws_sqs_queue.orders_dlq.arn
    error_message = "orders must redrive to orders-dlq."
  }
  assert {
    condition     = aws_sqs_queue.orders_dlq.message_retention_seconds == 1209600
    error_message = "The DLQ must keep messages 14 days."
  }
  assert {
    condition     = aws_sqs_queue.orders.sqs_managed_sse_enabled && aws_sqs_queue.orders_dlq.sqs_managed_sse_enabled
    error_message = "Both queues must be encrypted at rest."
  }
  assert {
    condition     = aws_sqs_queue.orders.visibility_timeout_seconds >= 6 * aws_lambda_function.this["process-order"].timeout
    error_message = "The visibility timeout must be at least 6 x the process-order timeout."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.orders_dlq.redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.orders.arn]
    error_message = "Only the orders queue may redrive into the DLQ."
  }
  assert {
    condition     = aws_sqs_queue.orders.name == "orders" && aws_sqs_queue.orders_dlq.name == "orders-dlq" && !aws_sqs_queue.orders.fifo_queue && !aws_sqs_queue.orders_dlq.fifo_queue
    error_message = "By default both queues are standard queues named orders and orders-dlq."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.orders.maximum_batching_window_in_seconds == 0
    error_message = "On a standard queue the mapping has the pipeline's batching window, 0."
  }
}

# The FIFO option: both queues FIFO (a FIFO queue's DLQ must be FIFO), named .fifo, deduplicating by
# the id each message carries (never content), the same redrive; the mapping as AWS allows on FIFO.
run "fifo_queues_redrive_to_a_fifo_dlq_and_the_mapping_has_no_batching_window" {
  command = plan

  variables {
    queue_type = "fifo"
  }

  assert {
    condition     = aws_sqs_queue.orders.name == "orders.fifo" && aws_sqs_queue.orders_dlq.name == "orders-dlq.fifo"
    error_message = "With queue_type = fifo the queues are orders.fifo and orders-dlq.fifo."
  }
  assert {
    condition     = aws_sqs_queue.orders.fifo_queue && aws_sqs_queue.orders_dlq.fifo_queue
    error_message = "With queue_type = fifo both the queue and its DLQ must be FIFO."
  }
  assert {
    condition     = aws_sqs_queue.orders.content_based_deduplication == false && aws_sqs_queue.orders_dlq.content_based_deduplication == false
    error_message = "Content-based deduplication must be off: submit-order deduplicates by order id."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.orders.redrive_policy).maxReceiveCount == 5 && jsondecode(aws_sqs_queue.orders.redrive_policy).deadLetterTargetArn == aws_sqs_queue.orders_dlq.arn
    error_message = "orders.fifo must redrive to orders-dlq.fifo after 5 receives."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.orders_dlq.redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.orders.arn]
    error_message = "Only the orders queue may redrive into the FIFO DLQ."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.orders.maximum_batching_window_in_seconds == null && aws_lambda_event_source_mapping.orders.batch_size == 10
    error_message = "A FIFO event source mapping takes no batching window, and batches of at most 10."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.orders.event_source_arn == aws_sqs_queue.orders.arn && aws_lambda_event_source_mapping.orders.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "process-order must consume the FIFO queue and report batch item failures."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.dimensions.QueueName == "orders-dlq.fifo" && aws_cloudwatch_metric_alarm.orders_backlog.dimensions.QueueName == "orders.fifo"
    error_message = "The DLQ and backlog alarms must watch the FIFO queues."
  }
  assert {
    condition = toset([
      for metric in concat([for widget in jsondecode(aws_cloudwatch_dashboard.pipeline.dashboard_body).widgets : try(widget.properties.metrics, [])]...) : metric[3] if try(metric[0] == "AWS/SQS", false)
    ]) == toset(["orders.fifo", "orders-dlq.fifo", "customer-notifications"])
    error_message = "The dashboard must show the FIFO orders queues (and the customer mail queue, standard whatever queue_type)."
  }
  assert {
    condition     = aws_lambda_function.this["submit-order"].environment[0].variables.QUEUE_URL == aws_sqs_queue.orders.url && output.queue_url == aws_sqs_queue.orders.url && output.dead_letter_queue_url == aws_sqs_queue.orders_dlq.url
    error_message = "submit-order and the outputs must name the FIFO queue."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.grants["submit-order"].policy).Statement[0].Resource == aws_sqs_queue.orders.arn && jsondecode(aws_iam_role_policy.grants["process-order"].policy).Statement[0].Resource == aws_sqs_queue.orders.arn
    error_message = "submit-order and process-order must be granted the FIFO queue."
  }
}

run "rejects_a_queue_type_that_is_not_one" {
  command = plan

  variables {
    queue_type = "FIFO"
  }

  expect_failures = [var.queue_type]
}

run "rejects_a_fifo_mapping_with_batches_over_ten" {
  command = plan

  variables {
    queue_type              = "fifo"
    event_source_batch_size = 11
  }

  expect_failures = [aws_lambda_event_source_mapping.orders]
}

run "dlq_alarm_watches_visible_messages_and_notifies_ops" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.namespace == "AWS/SQS" && aws_cloudwatch_metric_alarm.dlq_not_empty.metric_name == "ApproximateNumberOfMessagesVisible"
    error_message = "The DLQ alarm must watch AWS/SQS ApproximateNumberOfMessagesVisible (redriven messages are not counted as sent)."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.dimensions.QueueName == aws_sqs_queue.orders_dlq.name
    error_message = "The DLQ alarm must watch the DLQ."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.comparison_operator == "GreaterThanOrEqualToThreshold" && aws_cloudwatch_metric_alarm.dlq_not_empty.threshold == 1 && aws_cloudwatch_metric_alarm.dlq_not_empty.statistic == "Maximum"
    error_message = "The DLQ alarm must fire at Maximum >= 1."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_actions == toset([aws_sns_topic.ops_alarms.arn]) && aws_cloudwatch_metric_alarm.dlq_not_empty.ok_actions == toset([aws_sns_topic.ops_alarms.arn])
    error_message = "The DLQ alarm must notify ops-alarms on ALARM and on OK."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.treat_missing_data == "notBreaching"
    error_message = "Missing DLQ data must not breach."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.orders_backlog.metric_name == "ApproximateAgeOfOldestMessage" && aws_cloudwatch_metric_alarm.orders_backlog.dimensions.QueueName == aws_sqs_queue.orders.name && aws_cloudwatch_metric_alarm.orders_backlog.threshold == 300
    error_message = "The backlog alarm must watch the age of the oldest message in orders, at 300 s."
  }
  assert {
    condition     = aws_sns_topic_subscription.ops_alarms_email.protocol == "email" && aws_sns_topic_subscription.ops_alarms_email.endpoint == "ops@example.com"
    error_message = "ops-alarms must mail alarm_email."
  }
  assert {
    condition     = aws_sns_topic.ops_alarms.kms_master_key_id == aws_kms_key.notifications.arn && aws_kms_key.notifications.enable_key_rotation
    error_message = "ops-alarms must use the rotating customer-managed key (CloudWatch cannot use aws/sns)."
  }
  assert {
    condition     = contains([for s in jsondecode(aws_kms_key.notifications.policy).Statement : try(s.Principal.Service, "")], "cloudwatch.amazonaws.com")
    error_message = "The key policy must let CloudWatch use the key."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.order_events_email) == 0
    error_message = "order-events has no subscription unless order_events_email is set."
  }
}

run "process_order_reports_batch_item_failures" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.orders.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The event source mapping must let process-order report partial batch failures."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.orders.batch_size == 10 && aws_lambda_event_source_mapping.orders.maximum_batching_window_in_seconds == 0 && aws_lambda_event_source_mapping.orders.scaling_config[0].maximum_concurrency == 5
    error_message = "Batch size 10, window 0 and maximum concurrency 5 are the pipeline's settings."
  }
  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.runtime == "nodejs22.x" && one(f.architectures) == "arm64" && f.memory_size == 256 && f.handler == "index.handler"])
    error_message = "Every function runs nodejs22.x on arm64 with 256 MB."
  }
  assert {
    condition     = aws_lambda_function.this["submit-order"].environment[0].variables.QUEUE_URL == aws_sqs_queue.orders.url && aws_lambda_function.this["process-order"].environment[0].variables.TABLE_NAME == aws_dynamodb_table.orders.name
    error_message = "The functions must be told their queue and table."
  }
  assert {
    condition     = alltrue([for name in ["process-order", "advance-orders"] : jsondecode(aws_lambda_function.this[name].environment[0].variables.ORDER_TIMINGS) == { RECEIVED = 60, PREPARING = 600, READY = 300 }])
    error_message = "process-order and advance-orders must be given the lifecycle timings as JSON in ORDER_TIMINGS."
  }
}

run "each_role_gets_only_what_its_function_does" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role_policy.grants["submit-order"].policy).Statement == [{ Sid = "QueueOrders", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = aws_sqs_queue.orders.arn }, { Sid = "ReadMenu", Effect = "Allow", Action = ["dynamodb:Scan"], Resource = aws_dynamodb_table.products.arn }]
    error_message = "submit-order may only send to the orders queue and read the menu."
  }
  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.grants["get-order"].policy).Statement[0].Action) == toset(["dynamodb:GetItem", "dynamodb:BatchGetItem"]) && length(jsondecode(aws_iam_role_policy.grants["get-order"].policy).Statement) == 1
    error_message = "get-order may only read items."
  }
  assert {
    condition = alltrue(flatten([
      for p in concat([for g in aws_iam_role_policy.grants : g.policy], [for l in aws_iam_role_policy.lambda_logs : l.policy]) : [
        for s in jsondecode(p).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
      ]
    ]))
    error_message = "No Lambda policy may grant a wildcard action."
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy.grants)) == toset([for name, f in jsondecode(file("../platform/functions.json")) : name if length(f.permissions) > 0]) && alltrue([for key, g in aws_iam_role_policy.grants : g.name == "grants" && g.role == aws_iam_role.lambda[key].id])
    error_message = "Every declared function has its grants, in one policy named grants on its own role."
  }
  assert {
    condition     = alltrue([for g in aws_iam_role_policy.grants : length(distinct([for s in jsondecode(g.policy).Statement : s.Sid])) == length(jsondecode(g.policy).Statement) && alltrue([for s in jsondecode(g.policy).Statement : can(regex("^[A-Za-z0-9]+$", s.Sid))])])
    error_message = "Each statement of a function's grants has its own Sid (alphanumeric, as IAM requires)."
  }
}

run "api_requires_a_key_that_the_tool_makes_outside_the_state" {
  command = plan

  assert {
    condition     = aws_api_gateway_method.route["POST /orders"].api_key_required && aws_api_gateway_method.route["GET /orders/{id}"].api_key_required
    error_message = "Both routes must require the API key."
  }
  assert {
    condition     = aws_api_gateway_integration.route["POST /orders"].type == "AWS_PROXY" && aws_api_gateway_integration.route["GET /orders/{id}"].type == "AWS_PROXY"
    error_message = "Both routes must be Lambda proxy integrations."
  }
  assert {
    condition     = aws_api_gateway_usage_plan.web.throttle_settings[0].rate_limit == 100 && aws_api_gateway_usage_plan.web.throttle_settings[0].burst_limit == 200
    error_message = "The usage plan must throttle at 100 rps, burst 200."
  }
  assert {
    condition     = output.api_key_parameter_name == "/order-pipeline/api-key" && output.api_key_parameter_arn == "arn:aws:ssm:us-east-1:123456789012:parameter/order-pipeline/api-key"
    error_message = "The outputs must name the parameter npm run api-key writes, and its ARN, never the key."
  }
  assert {
    condition     = output.api_key_name == "order-web" && aws_api_gateway_usage_plan.web.name == output.api_key_name && output.usage_plan_id == aws_api_gateway_usage_plan.web.id
    error_message = "npm run api-key finds the usage plan by the key's name: the two must match."
  }
  assert {
    condition     = aws_api_gateway_stage.orders.stage_name == "v1" && output.api_base_url == aws_api_gateway_stage.orders.invoke_url
    error_message = "The API base URL is the v1 stage's invoke URL."
  }
}

run "table_is_on_demand_recoverable_and_encrypted" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.orders.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.orders.hash_key == "order_id" && aws_dynamodb_table.orders.range_key == null
    error_message = "orders is on demand, keyed by order_id alone."
  }
  assert {
    condition     = aws_dynamodb_table.orders.point_in_time_recovery[0].enabled
    error_message = "orders must have point-in-time recovery."
  }
  assert {
    condition     = aws_dynamodb_table.orders.server_side_encryption[0].enabled
    error_message = "orders must be encrypted with KMS."
  }
  assert {
    condition     = aws_dynamodb_table.orders.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }
}

run "name_prefix_separates_two_stacks" {
  command = plan

  variables {
    name_prefix        = "dev-"
    order_events_email = "orders@example.com"
  }

  assert {
    condition     = aws_sqs_queue.orders.name == "dev-orders" && aws_sqs_queue.orders_dlq.name == "dev-orders-dlq" && aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_name == "dev-orders-dlq-not-empty"
    error_message = "name_prefix must prefix every name."
  }
  assert {
    condition     = output.api_key_parameter_name == "/dev-order-pipeline/api-key" && output.api_key_name == "dev-order-web" && aws_api_gateway_usage_plan.web.name == "dev-order-web"
    error_message = "The key, its usage plan and its parameter are named per stack."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.order_events_email) == 1
    error_message = "order_events_email subscribes to order-events."
  }
}

# IAM names are global to the account: the region keeps one prefix in two regions apart, the prefix two
# stacks in one region. The account's API Gateway logging role is left alone unless asked for.
run "iam_names_carry_the_prefix_and_the_region_and_the_account_setting_is_left_alone" {
  command = plan

  variables {
    name_prefix = "dev-"
    aws_region  = "eu-west-1"
  }

  assert {
    condition     = alltrue([for name, role in aws_iam_role.lambda : role.name == "dev-${name}-eu-west-1"])
    error_message = "Each function's role is named <prefix><function>-<region>."
  }
  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.api_gateway_cloudwatch) == 0
    error_message = "By default the stack neither sets the account's API Gateway CloudWatch role nor makes one."
  }
}

run "the_account_logging_role_is_set_only_when_asked" {
  command = plan

  variables {
    name_prefix                 = "dev-"
    aws_region                  = "eu-west-1"
    api_gateway_cloudwatch_role = true
  }

  assert {
    condition     = aws_iam_role.api_gateway_cloudwatch[0].name == "dev-api-gateway-cloudwatch-logs-eu-west-1" && aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn
    error_message = "Asked for, the account's setting points at this stack's role, named <prefix>api-gateway-cloudwatch-logs-<region>."
  }
}

run "rejects_a_bad_alarm_email" {
  command = plan

  variables {
    alarm_email = "not-an-address"
  }

  expect_failures = [var.alarm_email]
}

run "rejects_a_visibility_timeout_under_six_times_process_order" {
  command = plan

  variables {
    queue_visibility_timeout_seconds = 150
  }

  # The customer notifications queue shares the timeout, and notify-customer runs 30 s too.
  expect_failures = [aws_sqs_queue.orders, aws_sqs_queue.customer_notifications]
}

run "rejects_a_key_that_is_not_a_declared_function" {
  command = plan

  variables {
    lambda_functions = { "refund-order" = { memory_mb = 256 } }
  }

  expect_failures = [terraform_data.declared_functions]
}

run "rejects_an_override_out_of_range" {
  command = plan

  variables {
    lambda_functions = { "cart" = { memory_mb = 64 } }
  }

  expect_failures = [var.lambda_functions]
}

# var.lambda_functions overrides what platform/functions.json declares, per function and per field.
run "an_override_of_one_timeout_changes_only_that_function" {
  command = plan

  variables {
    lambda_functions = { "get-order" = { timeout_seconds = 20 } }
  }

  assert {
    condition     = aws_lambda_function.this["get-order"].timeout == 20 && aws_lambda_function.this["get-order"].memory_size == 256
    error_message = "get-order runs 20 s as overridden, and keeps its declared 256 MB."
  }
  assert {
    condition = { for name, f in aws_lambda_function.this : name => [f.timeout, f.memory_size] } == {
      "submit-order" = [10, 256], "process-order" = [30, 256], "get-order" = [20, 256], "advance-orders" = [60, 256],
      "cart"         = [10, 256], "checkout" = [10, 256], "my-orders" = [10, 256], "notify-customer" = [30, 256],
      "staff-orders" = [10, 256],
    }
    error_message = "Every other function keeps its declared timeout and memory."
  }
}

run "table_has_the_sparse_due_orders_index" {
  command = plan

  assert {
    condition     = { for a in aws_dynamodb_table.orders.attribute : a.name => a.type } == { order_id = "S", due_shard = "N", due_at = "S", account_id = "S", received_at = "S" }
    error_message = "orders must define order_id, due_shard (N), due_at, account_id and received_at (S), and nothing else."
  }
  assert {
    condition     = toset([for i in aws_dynamodb_table.orders.global_secondary_index : i.name]) == toset(["due-orders", "account-orders"])
    error_message = "orders has exactly two indexes, due-orders and account-orders."
  }
  assert {
    condition = alltrue([for i in aws_dynamodb_table.orders.global_secondary_index :
      i.hash_key == "due_shard" && i.range_key == "due_at" && i.projection_type == "INCLUDE"
      && toset(i.non_key_attributes) == toset(["customer_id", "customer_email", "status", "version", "pending_event"])
    if i.name == "due-orders"])
    error_message = "due-orders must be keyed due_shard/due_at and project customer_id, customer_email, status, version and pending_event, as the order store says."
  }
  assert {
    condition = alltrue([for i in aws_dynamodb_table.orders.global_secondary_index :
      i.hash_key == "account_id" && i.range_key == "received_at" && i.projection_type == "INCLUDE"
      && toset(i.non_key_attributes) == toset(["status", "version", "lines", "total_cents", "currency", "order_date", "status_history"])
    if i.name == "account-orders"])
    error_message = "account-orders must be keyed account_id/received_at and project what my orders lists, as the order store says."
  }
}

run "kitchen_may_query_only_the_index" {
  command = plan

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.grants["advance-orders"].policy).Statement : s.Resource if contains(flatten([s.Action]), "dynamodb:Query")] == ["${aws_dynamodb_table.orders.arn}/index/due-orders"]
    error_message = "The kitchen may Query the due-orders index ARN and nothing else (not the table, not index/*)."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.grants["advance-orders"].policy).Statement : toset(flatten([s.Action])) if s.Resource == aws_dynamodb_table.orders.arn] == [toset(["dynamodb:GetItem", "dynamodb:UpdateItem"])]
    error_message = "On the table itself the kitchen may only GetItem (staff commands) and UpdateItem (advances)."
  }
  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.grants["advance-orders"].policy).Statement : contains(flatten([s.Action]), "dynamodb:Scan")])
    error_message = "The kitchen must never be allowed to Scan."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.grants["advance-orders"].policy).Statement : s.Resource if contains(flatten([s.Action]), "sns:Publish")] == [aws_sns_topic.order_events.arn]
    error_message = "The kitchen may publish to order-events only."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.grants["advance-orders"].policy).Statement : s.Resource if contains(flatten([s.Action]), "kms:GenerateDataKey")] == [aws_kms_key.notifications.arn]
    error_message = "The kitchen may use the notifications key only."
  }
  assert {
    condition     = aws_iam_role_policy.grants["advance-orders"].role == aws_iam_role.lambda["advance-orders"].id && jsondecode(aws_iam_role_policy.lambda_logs["advance-orders"].policy).Statement[0].Resource == "${aws_cloudwatch_log_group.lambda["advance-orders"].arn}:*"
    error_message = "The kitchen has its own role, which writes to its own log group only."
  }
  assert {
    condition     = aws_cloudwatch_log_group.lambda["advance-orders"].name == "/aws/lambda/advance-orders" && aws_cloudwatch_log_group.lambda["advance-orders"].retention_in_days == 30
    error_message = "The kitchen logs to /aws/lambda/advance-orders, kept 30 days."
  }
  assert {
    condition     = aws_lambda_function.this["advance-orders"].timeout == 60 && aws_lambda_function.this["advance-orders"].memory_size == 256 && toset(keys(aws_lambda_function.this["advance-orders"].environment[0].variables)) == toset(["ORDER_EVENTS_TOPIC_ARN", "ORDER_TIMINGS", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "TABLE_NAME"])
    error_message = "The kitchen runs 60 s with 256 MB, told its table, topic and timings."
  }
}

run "kitchen_runs_every_minute" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_rule.kitchen.schedule_expression == "rate(1 minute)" && aws_cloudwatch_event_rule.kitchen.name == "advance-orders-schedule"
    error_message = "The kitchen's rule must run it every minute."
  }
  assert {
    condition     = aws_cloudwatch_event_target.kitchen.rule == aws_cloudwatch_event_rule.kitchen.name && aws_cloudwatch_event_target.kitchen.arn == aws_lambda_function.this["advance-orders"].arn
    error_message = "The rule's target must be advance-orders."
  }
  assert {
    condition     = aws_lambda_permission.kitchen_schedule.principal == "events.amazonaws.com" && aws_lambda_permission.kitchen_schedule.source_arn == aws_cloudwatch_event_rule.kitchen.arn && aws_lambda_permission.kitchen_schedule.function_name == aws_lambda_function.this["advance-orders"].function_name
    error_message = "Only the kitchen's rule may invoke advance-orders through EventBridge."
  }
  assert {
    condition     = output.kitchen_schedule_rule_name == aws_cloudwatch_event_rule.kitchen.name && output.lambda_function_names["advance-orders"] == aws_lambda_function.this["advance-orders"].function_name
    error_message = "Ops are given the rule's and the kitchen's names."
  }
}

run "kitchen_errors_alarm_ops" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].namespace == "AWS/Lambda" && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].metric_name == "Errors" && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].dimensions.FunctionName == aws_lambda_function.this["advance-orders"].function_name
    error_message = "The kitchen's alarm must watch advance-orders' Errors."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].statistic == "Sum" && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].comparison_operator == "GreaterThanOrEqualToThreshold" && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].threshold == 1 && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].period == 60
    error_message = "The kitchen's alarm must fire on one error (Sum >= 1) in a period."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].alarm_actions == toset([aws_sns_topic.ops_alarms.arn]) && aws_cloudwatch_metric_alarm.lambda_errors["advance-orders"].ok_actions == toset([aws_sns_topic.ops_alarms.arn])
    error_message = "The kitchen's alarm must notify ops-alarms on ALARM and OK, and not breach on missing data."
  }
}

run "order_events_email_gets_one_mail_per_order" {
  command = plan

  variables {
    order_events_email = "orders@example.com"
  }

  assert {
    condition     = jsondecode(aws_sns_topic_subscription.order_events_email[0].filter_policy) == { event_type = ["order.received"] } && aws_sns_topic_subscription.order_events_email[0].filter_policy_scope == "MessageAttributes"
    error_message = "The order-events mail must pass order.received only, not every status change."
  }
}

run "timings_and_schedule_are_variables" {
  command = plan

  variables {
    order_timings_seconds       = { RECEIVED = 0, PREPARING = 86400, READY = 5 }
    kitchen_schedule_expression = "rate(5 minutes)"
  }

  assert {
    condition     = jsondecode(aws_lambda_function.this["advance-orders"].environment[0].variables.ORDER_TIMINGS) == { RECEIVED = 0, PREPARING = 86400, READY = 5 } && aws_lambda_function.this["process-order"].environment[0].variables.ORDER_TIMINGS == aws_lambda_function.this["advance-orders"].environment[0].variables.ORDER_TIMINGS
    error_message = "order_timings_seconds must reach both functions."
  }
  assert {
    condition     = aws_cloudwatch_event_rule.kitchen.schedule_expression == "rate(5 minutes)"
    error_message = "kitchen_schedule_expression must set the rule's schedule."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].period == 1500
    error_message = "The kitchen-stopped alarm follows the schedule: five of its periods."
  }
}

run "rejects_timings_out_of_range" {
  command = plan

  variables {
    order_timings_seconds = { RECEIVED = 60, PREPARING = 86401, READY = 300 }
  }

  expect_failures = [var.order_timings_seconds]
}

run "rejects_fractional_timings" {
  command = plan

  variables {
    order_timings_seconds = { RECEIVED = 1.5, PREPARING = 600, READY = 300 }
  }

  expect_failures = [var.order_timings_seconds]
}

run "rejects_a_schedule_that_is_not_one" {
  command = plan

  variables {
    kitchen_schedule_expression = "every minute"
  }

  expect_failures = [var.kitchen_schedule_expression]
}

run "every_function_is_traced_and_tells_its_metrics_namespace" {
  command = plan

  assert {
    condition     = alltrue([for f in aws_lambda_function.this : f.tracing_config[0].mode == "Active" && f.environment[0].variables.POWERTOOLS_METRICS_NAMESPACE == "OrderPipeline"])
    error_message = "Every function must have active X-Ray tracing and POWERTOOLS_METRICS_NAMESPACE=OrderPipeline."
  }
  assert {
    condition     = alltrue([for key, f in aws_lambda_function.this : f.environment[0].variables.POWERTOOLS_SERVICE_NAME == key])
    error_message = "Each function's service (its metrics' dimension) is its declared name."
  }
  assert {
    condition     = aws_lambda_function.this["process-order"].environment[0].variables.MAX_RECEIVE_COUNT == "5"
    error_message = "process-order must be told the redrive count in MAX_RECEIVE_COUNT."
  }
  assert {
    condition     = alltrue([for key, p in aws_iam_role_policy.lambda_tracing : p.role == aws_iam_role.lambda[key].id && toset(jsondecode(p.policy).Statement[0].Action) == toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])]) && toset(keys(aws_iam_role_policy.lambda_tracing)) == toset(keys(jsondecode(file("../platform/functions.json"))))
    error_message = "Every function's role may write traces, and nothing else through that policy."
  }
}

run "every_function_has_error_and_throttle_alarms_to_ops" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.lambda_errors)) == toset(keys(aws_lambda_function.this)) && toset(keys(aws_cloudwatch_metric_alarm.lambda_throttles)) == toset(keys(aws_lambda_function.this)) && toset(keys(aws_lambda_function.this)) == toset(keys(jsondecode(file("../platform/functions.json"))))
    error_message = "Each declared function (platform/functions.json) has an error alarm and a throttle alarm."
  }
  assert {
    condition = alltrue([for key, a in merge(aws_cloudwatch_metric_alarm.lambda_errors, aws_cloudwatch_metric_alarm.lambda_throttles) :
      a.namespace == "AWS/Lambda" && a.statistic == "Sum" && a.threshold == 1 && a.alarm_actions == toset([aws_sns_topic.ops_alarms.arn]) && a.ok_actions == toset([aws_sns_topic.ops_alarms.arn])
    ])
    error_message = "The function alarms fire on Sum >= 1 and notify ops-alarms both ways."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.lambda_throttles["process-order"].metric_name == "Throttles" && aws_cloudwatch_metric_alarm.lambda_throttles["process-order"].dimensions.FunctionName == aws_lambda_function.this["process-order"].function_name
    error_message = "Each throttle alarm watches its own function's Throttles."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.api_5xx_rate.metric_name == "5XXError" && aws_cloudwatch_metric_alarm.api_5xx_rate.statistic == "Average" && aws_cloudwatch_metric_alarm.api_5xx_rate.threshold == 0.05 && aws_cloudwatch_metric_alarm.api_5xx_rate.dimensions.Stage == "v1" && aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_actions == toset([aws_sns_topic.ops_alarms.arn])
    error_message = "The API's 5xx rate (Average of 5XXError) above 5% alarms ops."
  }
}

run "api_stage_logs_traces_and_sits_behind_waf" {
  command = plan

  assert {
    condition     = aws_api_gateway_stage.orders.xray_tracing_enabled && aws_api_gateway_stage.orders.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.api_access.arn
    error_message = "The stage traces with X-Ray and writes access logs to its log group."
  }
  assert {
    condition     = jsondecode(aws_api_gateway_stage.orders.access_log_settings[0].format).status == "$context.status" && !strcontains(aws_api_gateway_stage.orders.access_log_settings[0].format, "apiKey")
    error_message = "Access logs are JSON with the status, and never the API key."
  }
  assert {
    condition     = aws_api_gateway_method_settings.all.method_path == "*/*" && aws_api_gateway_method_settings.all.settings[0].logging_level == "ERROR" && !aws_api_gateway_method_settings.all.settings[0].data_trace_enabled && aws_api_gateway_method_settings.all.settings[0].metrics_enabled
    error_message = "Execution logging is on for every method, without data tracing."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api_access.retention_in_days == 30 && aws_cloudwatch_log_group.api_execution.retention_in_days == 30
    error_message = "The API's log groups keep log_retention_days."
  }
  assert {
    condition     = length(module.api_waf) == 1 && module.api_waf[0].guarded_resource_arn == aws_api_gateway_stage.orders.arn && module.api_waf[0].rate_limit_per_5_minutes == 30000
    error_message = "The API stage must be associated with the web ACL, limiting 30000 a 5 minutes per IP (terraform-modules/waf-acl, whose own tests check its rules)."
  }
}

run "waf_can_be_turned_off" {
  command = plan

  variables {
    waf_enabled = false
  }

  assert {
    condition     = length(module.api_waf) == 0
    error_message = "waf_enabled = false leaves out the web ACL, its association and its log."
  }
}

run "the_dashboard_shows_the_business_metrics_and_the_services" {
  command = plan

  assert {
    condition = toset(flatten([for w in jsondecode(aws_cloudwatch_dashboard.pipeline.dashboard_body).widgets : [for m in try(w.properties.metrics, []) : "${m[1]}/${m[3]}" if try(m[0], "") == "OrderPipeline"]])) == toset([
      "OrdersAccepted/submit-order", "OrdersAccepted/checkout", "OrdersStored/process-order", "StatusChanges/advance-orders", "StatusChanges/staff-orders", "OrdersFailed/process-order", "OrdersDeadLettered/process-order",
      "OrdersCancelled/my-orders", "OrdersCancelled/advance-orders", "OrdersCancelled/staff-orders",
    ])
    error_message = "The dashboard shows each business metric by its service, orders accepted by the API's submit-order and by the shop's checkout."
  }
  assert {
    condition     = toset(flatten([for w in jsondecode(aws_cloudwatch_dashboard.pipeline.dashboard_body).widgets : [for m in try(w.properties.metrics, []) : m[0] if can(tostring(m[0]))]])) == toset(["OrderPipeline", "AWS/ApiGateway", "AWS/Lambda", "AWS/SQS", "AWS/DynamoDB", "AWS/SES"])
    error_message = "The dashboard shows the API, the functions, the queues, the table and SES's reputation."
  }
  assert {
    condition     = toset([for w in jsondecode(aws_cloudwatch_dashboard.pipeline.dashboard_body).widgets : "${w.properties.title} ${join(",", [for m in try(w.properties.metrics, []) : "${m[0]}/${m[1]}" if can(tostring(m[0]))])}" if contains([32], w.y)]) == toset(["Tables: throttled reads and writes AWS/DynamoDB/ReadThrottleEvents,AWS/DynamoDB/WriteThrottleEvents,AWS/DynamoDB/ReadThrottleEvents,AWS/DynamoDB/WriteThrottleEvents,AWS/DynamoDB/ReadThrottleEvents,AWS/DynamoDB/WriteThrottleEvents", "Kitchen: runs AWS/Lambda/Invocations", "Customer mail: oldest waiting (s), SES bounce and complaint rates AWS/SQS/ApproximateAgeOfOldestMessage,AWS/SES/Reputation.BounceRate,AWS/SES/Reputation.ComplaintRate"])
    error_message = "The dashboard has a row for what the new alarms watch: the tables' throttles, the kitchen's runs, the customer mail's age and SES's reputation."
  }
}

# The alarms on what had none, each with the reason for its threshold in its description.
run "tables_ses_the_kitchen_and_customer_mail_alarm_ops" {
  command = plan

  variables {
    name_prefix = "dev-"
  }

  assert {
    condition     = { for key, alarm in aws_cloudwatch_metric_alarm.table_throttles : key => alarm.alarm_name } == { orders = "dev-orders-table-throttles", carts = "dev-carts-table-throttles", products = "dev-products-table-throttles" }
    error_message = "Each table has a throttle alarm, named with the prefix."
  }
  assert {
    condition = alltrue([for key, alarm in aws_cloudwatch_metric_alarm.table_throttles : alarm.threshold == 1 && alarm.comparison_operator == "GreaterThanOrEqualToThreshold" && toset([for q in alarm.metric_query : "${q.metric[0].metric_name}:${q.metric[0].dimensions.TableName}:${q.metric[0].stat}" if length(q.metric) > 0]) == toset([
      "ReadThrottleEvents:${ { orders = aws_dynamodb_table.orders.name, carts = aws_dynamodb_table.carts.name, products = aws_dynamodb_table.products.name }[key]}:Sum",
      "WriteThrottleEvents:${ { orders = aws_dynamodb_table.orders.name, carts = aws_dynamodb_table.carts.name, products = aws_dynamodb_table.products.name }[key]}:Sum",
    ]) && strcontains(alarm.alarm_description, "Threshold:")])
    error_message = "A table's alarm adds its throttled reads and writes and fires at one."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.ses_bounce_rate.metric_name == "Reputation.BounceRate" && aws_cloudwatch_metric_alarm.ses_bounce_rate.threshold == 0.02 && strcontains(aws_cloudwatch_metric_alarm.ses_bounce_rate.alarm_description, "under review at 5%") && aws_cloudwatch_metric_alarm.ses_complaint_rate.metric_name == "Reputation.ComplaintRate" && aws_cloudwatch_metric_alarm.ses_complaint_rate.threshold == 0.0005 && strcontains(aws_cloudwatch_metric_alarm.ses_complaint_rate.alarm_description, "under review at 0.1%")
    error_message = "SES's bounce and complaint rates alarm at 2% and 0.05%, below the 5% and 0.1% at which SES reviews the account."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].alarm_name == "dev-advance-orders-stopped" && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].metric_name == "Invocations" && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].dimensions.FunctionName == "dev-advance-orders" && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].comparison_operator == "LessThanThreshold" && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].threshold == 1 && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].period == 300 && aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"].treat_missing_data == "breaching"
    error_message = "No run of the kitchen in five minutes (five of its runs), or no data at all, alarms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.customer_notifications_age.alarm_name == "dev-customer-notifications-oldest-message-age" && aws_cloudwatch_metric_alarm.customer_notifications_age.dimensions.QueueName == aws_sqs_queue.customer_notifications.name && aws_cloudwatch_metric_alarm.customer_notifications_age.metric_name == "ApproximateAgeOfOldestMessage" && aws_cloudwatch_metric_alarm.customer_notifications_age.threshold == 300
    error_message = "A customer mail waiting 300 s (an order's READY step) alarms."
  }
  assert {
    condition     = alltrue([for alarm in concat(values(aws_cloudwatch_metric_alarm.table_throttles), [aws_cloudwatch_metric_alarm.ses_bounce_rate, aws_cloudwatch_metric_alarm.ses_complaint_rate, aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"], aws_cloudwatch_metric_alarm.customer_notifications_age]) : alarm.alarm_actions == toset([aws_sns_topic.ops_alarms.arn]) && alarm.ok_actions == toset([aws_sns_topic.ops_alarms.arn])])
    error_message = "Every new alarm notifies ops-alarms, on ALARM and on OK."
  }
}

run "rejects_a_kitchen_alarm_shorter_than_two_runs" {
  command = plan

  variables {
    kitchen_schedule_expression          = "rate(5 minutes)"
    kitchen_stopped_alarm_period_seconds = 300
  }

  expect_failures = [aws_cloudwatch_metric_alarm.schedule_stopped]
}

# WAF's log of the API's requests, in a group WAF accepts, without the key or the customers' tokens.
run "api_waf_logs_to_its_group_without_credentials" {
  command = plan

  variables {
    name_prefix = "dev-"
  }

  assert {
    condition     = module.api_waf[0].log_group_name == "aws-waf-logs-dev-orders-api" && module.api_waf[0].log_retention_days == 30
    error_message = "The API's web ACL logs to aws-waf-logs-<prefix>orders-api (WAF's rule), kept log_retention_days; what it redacts is checked in terraform-modules/waf-acl's tests."
  }
}

run "customers_sign_up_and_in_by_email_on_a_protected_pool" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.customers.name == "order-customers" && aws_cognito_user_pool.customers.username_attributes == toset(["email"]) && aws_cognito_user_pool.customers.auto_verified_attributes == toset(["email"])
    error_message = "Customers sign in with their email address, which sign-up verifies."
  }
  assert {
    condition = (aws_cognito_user_pool.customers.password_policy[0].minimum_length == 8 && aws_cognito_user_pool.customers.password_policy[0].require_lowercase
      && aws_cognito_user_pool.customers.password_policy[0].require_uppercase && aws_cognito_user_pool.customers.password_policy[0].require_numbers
    && !aws_cognito_user_pool.customers.password_policy[0].require_symbols)
    error_message = "The password policy is the settings': at least 8, lower, upper and a digit, no symbol required."
  }
  assert {
    condition     = aws_cognito_user_pool.customers.deletion_protection == "ACTIVE" && aws_cognito_user_pool.customers.user_pool_add_ons[0].advanced_security_mode == "OFF" && aws_cognito_user_pool.customers.user_pool_tier == "ESSENTIALS"
    error_message = "By default the pool is protected from deletion, without threat protection, on the Essentials plan."
  }
  assert {
    condition     = one(aws_cognito_user_pool.customers.email_configuration).email_sending_account == "COGNITO_DEFAULT" && one(aws_cognito_user_pool.customers.email_configuration).source_arn == null
    error_message = "Until SES has verified the sender, Cognito mails the codes with its own sender."
  }
  assert {
    condition     = one(one(aws_cognito_user_pool.customers.account_recovery_setting).recovery_mechanism).name == "verified_email"
    error_message = "A forgotten password is reset through the verified email only."
  }
  assert {
    condition     = one(aws_cognito_user_pool.customers.user_attribute_update_settings).attributes_require_verification_before_update == toset(["email"])
    error_message = "A changed address takes effect only once its code is typed: the account keeps its verified one until then."
  }
  assert {
    condition     = aws_cognito_user_group.staff.name == "staff" && aws_cognito_user_group.staff.user_pool_id == aws_cognito_user_pool.customers.id
    error_message = "The pool has the staff group, by the name the code checks."
  }
  assert {
    condition     = aws_cognito_user_pool_client.web.name == "web-tier" && aws_cognito_user_pool_client.web.user_pool_id == aws_cognito_user_pool.customers.id && !aws_cognito_user_pool_client.web.generate_secret
    error_message = "The web tier's app client belongs to the pool and has no secret."
  }
  assert {
    condition     = aws_cognito_user_pool_client.web.explicit_auth_flows == toset(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "The app client allows USER_PASSWORD_AUTH and refresh, nothing else (no SRP, no admin flows)."
  }
  assert {
    condition = (aws_cognito_user_pool_client.web.id_token_validity == 60 && aws_cognito_user_pool_client.web.access_token_validity == 60 && aws_cognito_user_pool_client.web.refresh_token_validity == 30
    && aws_cognito_user_pool_client.web.token_validity_units[0].id_token == "minutes" && aws_cognito_user_pool_client.web.token_validity_units[0].refresh_token == "days")
    error_message = "ID and access tokens last 60 minutes, refresh tokens 30 days."
  }
  assert {
    condition     = aws_cognito_user_pool_client.web.prevent_user_existence_errors == "ENABLED"
    error_message = "Sign-in must not tell whether an account exists."
  }
  assert {
    condition     = output.user_pool_id == aws_cognito_user_pool.customers.id && output.user_pool_client_id == aws_cognito_user_pool_client.web.id && output.user_pool_issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Mock12345"
    error_message = "Ops and the web tier are given the pool's id, the client's id and the tokens' issuer."
  }
}

run "advanced_security_moves_the_pool_to_the_plus_plan" {
  command = plan

  variables {
    user_pool_advanced_security_mode = "ENFORCED"
    user_pool_deletion_protection    = false
  }

  assert {
    condition     = aws_cognito_user_pool.customers.user_pool_add_ons[0].advanced_security_mode == "ENFORCED" && aws_cognito_user_pool.customers.user_pool_tier == "PLUS" && aws_cognito_user_pool.customers.deletion_protection == "INACTIVE"
    error_message = "Threat protection needs the Plus plan; deletion protection follows its variable."
  }
}

run "cognito_mails_its_codes_through_ses_when_asked" {
  command = plan

  variables {
    user_pool_mail_through_ses = true
  }

  assert {
    condition = (one(aws_cognito_user_pool.customers.email_configuration).email_sending_account == "DEVELOPER"
      && one(aws_cognito_user_pool.customers.email_configuration).source_arn == aws_sesv2_email_identity.customer_mail_from.arn
    && one(aws_cognito_user_pool.customers.email_configuration).from_email_address == var.customer_mail_from)
    error_message = "Through SES, Cognito sends the codes from the customers' mail identity and its address."
  }
}

run "rejects_an_advanced_security_mode_cognito_has_not" {
  command = plan

  variables {
    user_pool_advanced_security_mode = "ON"
  }

  expect_failures = [var.user_pool_advanced_security_mode]
}

run "me_routes_need_the_customer_token_and_the_api_key" {
  command = plan

  assert {
    condition     = aws_api_gateway_authorizer.customers.type == "COGNITO_USER_POOLS" && aws_api_gateway_authorizer.customers.provider_arns == toset([aws_cognito_user_pool.customers.arn]) && aws_api_gateway_authorizer.customers.identity_source == "method.request.header.Authorization"
    error_message = "The authorizer checks the Authorization header's token against the customers' pool."
  }
  assert {
    condition     = alltrue([for route in ["GET /me/cart", "PUT /me/cart/lines/{product_id}", "DELETE /me/cart/lines/{product_id}", "POST /me/orders", "GET /me/orders", "GET /me/orders/{id}", "POST /me/orders/{id}/cancel"] : aws_api_gateway_method.route[route].authorization == "COGNITO_USER_POOLS" && aws_api_gateway_method.route[route].authorizer_id == aws_api_gateway_authorizer.customers.id && aws_api_gateway_method.route[route].api_key_required])
    error_message = "Every /me route needs the customer's token (the Cognito authorizer) and the API key."
  }
  assert {
    condition     = alltrue([for route in ["POST /orders", "GET /orders/{id}", "GET /orders", "GET /menu"] : aws_api_gateway_method.route[route].authorization == "NONE" && aws_api_gateway_method.route[route].authorizer_id == null])
    error_message = "The integration routes (and the menu) stay on the API key alone."
  }
  assert {
    condition = (aws_api_gateway_integration.route["GET /me/cart"].uri == aws_lambda_function.this["cart"].invoke_arn && aws_api_gateway_integration.route["PUT /me/cart/lines/{product_id}"].uri == aws_lambda_function.this["cart"].invoke_arn
      && aws_api_gateway_integration.route["DELETE /me/cart/lines/{product_id}"].uri == aws_lambda_function.this["cart"].invoke_arn && aws_api_gateway_integration.route["POST /me/orders"].uri == aws_lambda_function.this["checkout"].invoke_arn
      && aws_api_gateway_integration.route["GET /me/orders"].uri == aws_lambda_function.this["my-orders"].invoke_arn && aws_api_gateway_integration.route["GET /me/orders/{id}"].uri == aws_lambda_function.this["my-orders"].invoke_arn
    && aws_api_gateway_integration.route["POST /me/orders/{id}/cancel"].uri == aws_lambda_function.this["my-orders"].invoke_arn)
    error_message = "Each /me route is proxied to its declared function."
  }
  assert {
    condition = (toset([for p in aws_lambda_permission.api : p.source_arn if p.function_name == aws_lambda_function.this["cart"].function_name]) == toset(["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/me/cart", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/PUT/me/cart/lines/*", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/DELETE/me/cart/lines/*"])
      && [for p in aws_lambda_permission.api : p.source_arn if p.function_name == aws_lambda_function.this["checkout"].function_name] == ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/POST/me/orders"]
    && toset([for p in aws_lambda_permission.api : p.source_arn if p.function_name == aws_lambda_function.this["my-orders"].function_name]) == toset(["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/me/orders", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/me/orders/*", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/POST/me/orders/*/cancel"]))
    error_message = "API Gateway may invoke each /me function for its own methods and paths only."
  }
}

run "carts_expire_by_ttl_and_are_recoverable_and_encrypted" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.carts.name == "carts" && aws_dynamodb_table.carts.hash_key == "customer_id" && aws_dynamodb_table.carts.range_key == null && { for a in aws_dynamodb_table.carts.attribute : a.name => a.type } == { customer_id = "S" }
    error_message = "carts is keyed by customer_id alone, as the cart store says."
  }
  assert {
    condition     = aws_dynamodb_table.carts.ttl[0].enabled && aws_dynamodb_table.carts.ttl[0].attribute_name == "expires_at"
    error_message = "DynamoDB TTL must delete carts by their expires_at."
  }
  assert {
    condition     = aws_dynamodb_table.carts.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.carts.point_in_time_recovery[0].enabled && aws_dynamodb_table.carts.server_side_encryption[0].enabled && aws_dynamodb_table.carts.deletion_protection_enabled
    error_message = "carts is on demand, recoverable, KMS-encrypted and protected from deletion, like orders."
  }
  assert {
    condition     = alltrue([for name in ["cart", "checkout"] : aws_lambda_function.this[name].environment[0].variables.CARTS_TABLE_NAME == aws_dynamodb_table.carts.name && aws_lambda_function.this[name].environment[0].variables.CART_TTL_SECONDS == "604800"])
    error_message = "cart and checkout are told the carts table and the TTL (a week)."
  }
  assert {
    condition     = output.carts_table_name == aws_dynamodb_table.carts.name
    error_message = "Ops are given the carts table's name."
  }
}

run "products_are_recoverable_encrypted_and_protected" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.products.name == "products" && aws_dynamodb_table.products.hash_key == "product_id" && aws_dynamodb_table.products.range_key == null && { for a in aws_dynamodb_table.products.attribute : a.name => a.type } == { product_id = "S" }
    error_message = "products is keyed by product_id alone, as the product store says."
  }
  assert {
    condition     = aws_dynamodb_table.products.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.products.point_in_time_recovery[0].enabled && aws_dynamodb_table.products.server_side_encryption[0].enabled && aws_dynamodb_table.products.deletion_protection_enabled
    error_message = "products is on demand, recoverable, KMS-encrypted and protected from deletion, like orders."
  }
  assert {
    condition     = alltrue([for name in ["submit-order", "cart", "checkout", "staff-orders"] : aws_lambda_function.this[name].environment[0].variables.PRODUCTS_TABLE_NAME == aws_dynamodb_table.products.name])
    error_message = "submit-order, cart, checkout and staff-orders are told the products table."
  }
  assert {
    condition     = alltrue([for name in ["cart", "checkout"] : [for s in jsondecode(aws_iam_role_policy.grants[name].policy).Statement : s if s.Sid == "ReadMenu"] == [{ Sid = "ReadMenu", Effect = "Allow", Action = ["dynamodb:Scan"], Resource = aws_dynamodb_table.products.arn }]])
    error_message = "cart and checkout may read the menu (Scan the products table) and not write it."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.grants["staff-orders"].policy).Statement : s if s.Sid == "WriteMenu"] == [{ Sid = "WriteMenu", Effect = "Allow", Action = ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem"], Resource = aws_dynamodb_table.products.arn }]
    error_message = "staff-orders may read the menu, fill it with the seed and change a product."
  }
  assert {
    condition     = output.products_table_name == aws_dynamodb_table.products.name
    error_message = "Ops are given the products table's name."
  }
}

run "customer_mail_reaches_notify_customer_from_order_events" {
  command = plan

  assert {
    condition     = aws_sns_topic_subscription.customer_notifications.topic_arn == aws_sns_topic.order_events.arn && aws_sns_topic_subscription.customer_notifications.protocol == "sqs" && aws_sns_topic_subscription.customer_notifications.endpoint == aws_sqs_queue.customer_notifications.arn
    error_message = "order-events must deliver to the customer notifications queue."
  }
  assert {
    condition     = aws_sns_topic_subscription.customer_notifications.raw_message_delivery && aws_sns_topic_subscription.customer_notifications.filter_policy_scope == "MessageAttributes" && jsondecode(aws_sns_topic_subscription.customer_notifications.filter_policy) == { event_type = ["order.received", "order.status_changed"], customer_mail = ["true"] }
    error_message = "Raw delivery of order.received and order.status_changed of orders with an address to mail only, as the local stack subscribes."
  }
  assert {
    condition = (jsondecode(aws_sqs_queue_policy.customer_notifications.policy).Statement[0].Principal.Service == "sns.amazonaws.com" && jsondecode(aws_sqs_queue_policy.customer_notifications.policy).Statement[0].Action == "sqs:SendMessage"
      && jsondecode(aws_sqs_queue_policy.customer_notifications.policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == aws_sns_topic.order_events.arn
    && length(jsondecode(aws_sqs_queue_policy.customer_notifications.policy).Statement) == 1)
    error_message = "Only order-events may send to the customer notifications queue."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.customer_notifications.redrive_policy) == { deadLetterTargetArn = aws_sqs_queue.customer_notifications_dlq.arn, maxReceiveCount = 5 } && jsondecode(aws_sqs_queue_redrive_allow_policy.customer_notifications_dlq.redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.customer_notifications.arn]
    error_message = "The customer notifications queue redrives to its own DLQ after 5 receives, and only it may."
  }
  assert {
    condition     = aws_sqs_queue.customer_notifications.sqs_managed_sse_enabled && aws_sqs_queue.customer_notifications_dlq.sqs_managed_sse_enabled && aws_sqs_queue.customer_notifications_dlq.message_retention_seconds == 1209600 && aws_sqs_queue.customer_notifications.visibility_timeout_seconds >= 6 * aws_lambda_function.this["notify-customer"].timeout
    error_message = "Both queues are encrypted, the DLQ keeps 14 days, and the visibility timeout is at least 6 x notify-customer's."
  }
  assert {
    condition = (aws_lambda_event_source_mapping.customer_notifications.event_source_arn == aws_sqs_queue.customer_notifications.arn && aws_lambda_event_source_mapping.customer_notifications.function_name == aws_lambda_function.this["notify-customer"].arn
      && aws_lambda_event_source_mapping.customer_notifications.function_response_types == toset(["ReportBatchItemFailures"])
    && aws_lambda_event_source_mapping.customer_notifications.batch_size == 10 && aws_lambda_event_source_mapping.customer_notifications.scaling_config[0].maximum_concurrency == 2)
    error_message = "notify-customer consumes the queue in batches of 10, two at a time, reporting item failures."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.customer_notifications_dlq_not_empty.metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.customer_notifications_dlq_not_empty.dimensions.QueueName == aws_sqs_queue.customer_notifications_dlq.name && aws_cloudwatch_metric_alarm.customer_notifications_dlq_not_empty.alarm_actions == toset([aws_sns_topic.ops_alarms.arn]) && output.alarm_names.customer_notifications_dlq_not_empty == "customer-notifications-dlq-not-empty"
    error_message = "Customer mails in their DLQ alarm ops, as orders in theirs do."
  }
  assert {
    condition     = aws_sesv2_email_identity.customer_mail_from.email_identity == "orders@shop.example" && aws_lambda_function.this["notify-customer"].environment[0].variables.MAIL_FROM == "orders@shop.example"
    error_message = "customer_mail_from is the SES identity and notify-customer's MAIL_FROM."
  }
}

run "the_customer_functions_get_only_what_they_do" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role_policy.grants["cart"].policy).Statement == [{ Sid = "ReadWriteCarts", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem"], Resource = aws_dynamodb_table.carts.arn }, { Sid = "ReadMenu", Effect = "Allow", Action = ["dynamodb:Scan"], Resource = aws_dynamodb_table.products.arn }]
    error_message = "cart may only read and write whole carts, and read the menu."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.grants["checkout"].policy).Statement == [{ Sid = "ReadWriteCarts", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem"], Resource = aws_dynamodb_table.carts.arn }, { Sid = "QueueOrders", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = aws_sqs_queue.orders.arn }, { Sid = "ReadMenu", Effect = "Allow", Action = ["dynamodb:Scan"], Resource = aws_dynamodb_table.products.arn }]
    error_message = "checkout may only read and write carts, send to the orders queue and read the menu."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.grants["my-orders"].policy).Statement == [
      { Sid = "QueryCustomerOrders", Effect = "Allow", Action = ["dynamodb:Query"], Resource = "${aws_dynamodb_table.orders.arn}/index/account-orders" },
      { Sid = "ReadOrCancelOrder", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource = aws_dynamodb_table.orders.arn },
      { Sid = "PublishOrderEvents", Effect = "Allow", Action = ["sns:Publish"], Resource = aws_sns_topic.order_events.arn },
      { Sid = "EncryptOrderEvents", Effect = "Allow", Action = ["kms:GenerateDataKey", "kms:Decrypt"], Resource = aws_kms_key.notifications.arn },
    ]
    error_message = "my-orders may Query the account-orders index (not the table, not index/*), get one order and cancel it (UpdateItem), and publish the cancel to order-events."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.grants["notify-customer"].policy).Statement == [
      { Sid = "ConsumeNotifications", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = aws_sqs_queue.customer_notifications.arn },
      { Sid = "ReadAndMarkOrders", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource = aws_dynamodb_table.orders.arn },
      { Sid = "SendCustomerMail", Effect = "Allow", Action = ["ses:SendEmail"], Resource = aws_sesv2_email_identity.customer_mail_from.arn, Condition = { StringEquals = { "ses:FromAddress" = "orders@shop.example" } } },
    ]
    error_message = "notify-customer may consume its queue, read and mark orders, and send from its own identity only."
  }
  assert {
    condition     = alltrue([for name in ["cart", "checkout", "my-orders", "notify-customer"] : jsondecode(aws_iam_role_policy.lambda_logs[name].policy).Statement[0].Resource == "${aws_cloudwatch_log_group.lambda[name].arn}:*" && aws_cloudwatch_log_group.lambda[name].name == "/aws/lambda/${name}"])
    error_message = "Each new function writes to its own log group only."
  }
  assert {
    condition     = alltrue([for name in ["cart", "checkout", "my-orders", "notify-customer"] : contains(keys(aws_cloudwatch_metric_alarm.lambda_errors), name) && contains(keys(aws_cloudwatch_metric_alarm.lambda_throttles), name)])
    error_message = "The new functions have their error and throttle alarms, through the same for_each as the others."
  }
}

run "rejects_a_bad_customer_mail_from" {
  command = plan

  variables {
    customer_mail_from = "orders at shop"
  }

  expect_failures = [var.customer_mail_from]
}

run "rejects_a_visibility_timeout_under_six_times_notify_customer" {
  command = plan

  variables {
    lambda_functions = { "notify-customer" = { timeout_seconds = 31 } }
  }

  expect_failures = [aws_sqs_queue.customer_notifications]
}

run "rejects_a_cart_ttl_that_is_not_whole_seconds" {
  command = plan

  variables {
    cart_ttl_seconds = 90.5
  }

  expect_failures = [var.cart_ttl_seconds]
}

# Every route declared in platform/functions.json (today's nine) has its method, its Lambda proxy
# integration to its own function, and an invoke permission for that function on that method and
# path alone; the resources make the routes' tree. (The mock gives every function the same
# invoke_arn, and override_resource cannot target one instance of a for_each: the permission's
# function_name is what tells the functions apart here.)
run "every_declared_route_has_a_method_an_integration_and_an_invoke_permission" {
  command = plan

  # A plan knows no resource's id: each path is given its own, so that a parent is told from another.
  override_resource {
    target          = aws_api_gateway_resource.depth1["orders"]
    override_during = plan
    values          = { id = "res-orders" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth1["me"]
    override_during = plan
    values          = { id = "res-me" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth2["orders/{id}"]
    override_during = plan
    values          = { id = "res-orders-id" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth2["me/cart"]
    override_during = plan
    values          = { id = "res-me-cart" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth2["me/orders"]
    override_during = plan
    values          = { id = "res-me-orders" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth3["me/cart/lines"]
    override_during = plan
    values          = { id = "res-me-cart-lines" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth3["me/orders/{id}"]
    override_during = plan
    values          = { id = "res-me-orders-id" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth4["me/cart/lines/{product_id}"]
    override_during = plan
    values          = { id = "res-me-cart-lines-product_id" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth4["me/orders/{id}/cancel"]
    override_during = plan
    values          = { id = "res-me-orders-id-cancel" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth1["staff"]
    override_during = plan
    values          = { id = "res-staff" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth2["staff/orders"]
    override_during = plan
    values          = { id = "res-staff-orders" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth3["staff/orders/{id}"]
    override_during = plan
    values          = { id = "res-staff-orders-id" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth4["staff/orders/{id}/advance"]
    override_during = plan
    values          = { id = "res-staff-orders-id-advance" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth4["staff/orders/{id}/cancel"]
    override_during = plan
    values          = { id = "res-staff-orders-id-cancel" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth1["menu"]
    override_during = plan
    values          = { id = "res-menu" }
  }
  override_resource {
    target          = aws_api_gateway_resource.depth2["staff/menu"]
    override_during = plan
    values          = { id = "res-staff-menu" }
  }

  assert {
    condition = (toset(keys(aws_api_gateway_method.route)) == toset(flatten([for f in values(jsondecode(file("../platform/functions.json"))) : try(f.trigger.routes, [])]))
    && toset(keys(aws_api_gateway_integration.route)) == toset(keys(aws_api_gateway_method.route)) && toset(keys(aws_lambda_permission.api)) == toset(keys(aws_api_gateway_method.route)))
    error_message = "Each declared route, and no other, has a method, an integration and an invoke permission."
  }
  assert {
    condition = (toset(concat(keys(aws_api_gateway_resource.depth1), keys(aws_api_gateway_resource.depth2), keys(aws_api_gateway_resource.depth3), keys(aws_api_gateway_resource.depth4)))
      == toset(["orders", "orders/{id}", "me", "me/cart", "me/cart/lines", "me/cart/lines/{product_id}", "me/orders", "me/orders/{id}", "me/orders/{id}/cancel", "staff", "staff/orders", "staff/orders/{id}", "staff/orders/{id}/advance", "staff/orders/{id}/cancel", "menu", "staff/menu"])
      && alltrue([for path, r in aws_api_gateway_resource.depth1 : r.path_part == path && r.parent_id == aws_api_gateway_rest_api.orders.root_resource_id])
      && alltrue([for path, r in aws_api_gateway_resource.depth2 : r.path_part == split("/", path)[1] && r.parent_id == aws_api_gateway_resource.depth1[split("/", path)[0]].id])
      && alltrue([for path, r in aws_api_gateway_resource.depth3 : r.path_part == split("/", path)[2] && r.parent_id == aws_api_gateway_resource.depth2[join("/", slice(split("/", path), 0, 2))].id])
    && alltrue([for path, r in aws_api_gateway_resource.depth4 : r.path_part == split("/", path)[3] && r.parent_id == aws_api_gateway_resource.depth3[join("/", slice(split("/", path), 0, 3))].id]))
    error_message = "The API's resources are the routes' paths and the paths above them, each under its parent."
  }
  assert {
    condition = alltrue([for route, function in {
      "POST /orders"      = "submit-order", "GET /orders/{id}" = "get-order", "GET /orders" = "get-order",
      "GET /me/cart"      = "cart", "PUT /me/cart/lines/{product_id}" = "cart", "DELETE /me/cart/lines/{product_id}" = "cart",
      "POST /me/orders"   = "checkout", "GET /me/orders" = "my-orders", "GET /me/orders/{id}" = "my-orders", "POST /me/orders/{id}/cancel" = "my-orders",
      "GET /staff/orders" = "staff-orders", "POST /staff/orders/{id}/advance" = "staff-orders", "POST /staff/orders/{id}/cancel" = "staff-orders",
      "GET /menu"         = "submit-order", "POST /staff/menu" = "staff-orders",
      } : (
      aws_api_gateway_method.route[route].http_method == split(" ", route)[0] && aws_api_gateway_method.route[route].api_key_required
      && aws_api_gateway_method.route[route].resource_id == merge(aws_api_gateway_resource.depth1, aws_api_gateway_resource.depth2, aws_api_gateway_resource.depth3, aws_api_gateway_resource.depth4)[trimprefix(split(" ", route)[1], "/")].id
      && aws_api_gateway_integration.route[route].resource_id == aws_api_gateway_method.route[route].resource_id && aws_api_gateway_integration.route[route].http_method == split(" ", route)[0]
      && aws_api_gateway_integration.route[route].type == "AWS_PROXY" && aws_api_gateway_integration.route[route].integration_http_method == "POST"
      && aws_api_gateway_integration.route[route].uri == aws_lambda_function.this[function].invoke_arn
      && aws_lambda_permission.api[route].function_name == aws_lambda_function.this[function].function_name && aws_lambda_permission.api[route].action == "lambda:InvokeFunction"
      && aws_lambda_permission.api[route].principal == "apigateway.amazonaws.com" && aws_lambda_permission.api[route].source_account == "123456789012"
      && aws_lambda_permission.api[route].source_arn == "${aws_api_gateway_rest_api.orders.execution_arn}/*/${split(" ", route)[0]}${replace(split(" ", route)[1], "/{[^}]+}/", "*")}"
    )])
    error_message = "Each route's method is on its path, behind the API key; its integration proxies to its declared function; its permission lets API Gateway invoke that function for that method and path only."
  }
  assert {
    condition     = length(distinct([for p in aws_lambda_permission.api : "${p.function_name} ${p.statement_id}"])) == length(aws_lambda_permission.api)
    error_message = "A function's invoke permissions each have their own statement id."
  }
  assert {
    condition = ({ for route, m in aws_api_gateway_method.route : route => [m.authorization, m.authorizer_id] if strcontains(route, " /me/") || strcontains(route, " /staff/") } == {
      for route in ["GET /me/cart", "PUT /me/cart/lines/{product_id}", "DELETE /me/cart/lines/{product_id}", "POST /me/orders", "GET /me/orders", "GET /me/orders/{id}", "POST /me/orders/{id}/cancel", "GET /staff/orders", "POST /staff/orders/{id}/advance", "POST /staff/orders/{id}/cancel", "POST /staff/menu"] : route => ["COGNITO_USER_POOLS", aws_api_gateway_authorizer.customers.id]
    } && alltrue([for route in ["POST /orders", "GET /orders/{id}", "GET /orders", "GET /menu"] : aws_api_gateway_method.route[route].authorization == "NONE"]))
    error_message = "The cognito routes (cart, checkout, my-orders, staff-orders) use the customers' Cognito authorizer; the others none."
  }
  assert {
    condition = jsonencode({ for route, m in aws_api_gateway_method.route : route => m.request_parameters if length(coalesce(m.request_parameters, {})) > 0 }) == jsonencode({
      "GET /orders/{id}"                   = { "method.request.path.id" = true }
      "PUT /me/cart/lines/{product_id}"    = { "method.request.path.product_id" = true }
      "DELETE /me/cart/lines/{product_id}" = { "method.request.path.product_id" = true }
      "GET /me/orders/{id}"                = { "method.request.path.id" = true }
      "POST /me/orders/{id}/cancel"        = { "method.request.path.id" = true }
      "POST /staff/orders/{id}/advance"    = { "method.request.path.id" = true }
      "POST /staff/orders/{id}/cancel"     = { "method.request.path.id" = true }
    })
    error_message = "A method requires exactly the path parameters of its route's {x} segments."
  }
}
