locals {
  lambda_package_dir = coalesce(var.lambda_package_dir, "${path.module}/../dist/lambdas")

  # Account and partition without a data source (so an offline plan needs no API call): read from
  # the ARN of a role this module creates.
  role_arn_parts = split(":", aws_iam_role.lambda["submit-order"].arn)
  partition      = local.role_arn_parts[1]
  account_id     = local.role_arn_parts[4]

  # Powertools Metrics' namespace of the business metrics (OrdersAccepted, OrdersStored, OrdersFailed,
  # OrdersDeadLettered, StatusChanges), each with the dimension service = the function's name.
  metrics_namespace = "OrderPipeline"

  # The web tier's API key: made outside Terraform by `npm run api-key -- create` under this name
  # (the usage plan's too, which is how the tool finds the plan), its value kept in this SecureString.
  api_key_name           = "${var.name_prefix}order-web"
  api_key_parameter_name = "/${var.name_prefix}order-pipeline/api-key"

  # The orders table's index of due orders: its name is in the table, and in the kitchen's grant.
  due_index_name = "due-orders"

  # The orders table's index of each customer's orders (my-orders' Query, and its grant).
  account_index_name = "account-orders"

  # What differs between the functions' environments; the rest is shared in lambdas.tf. Each
  # function's variables and what they are bound to are those of platform/functions.ts (the parity
  # test compares them).
  lambda_environment = {
    "submit-order" = {
      QUEUE_URL = aws_sqs_queue.orders.url
    }
    "process-order" = {
      TABLE_NAME             = aws_dynamodb_table.orders.name
      ORDER_EVENTS_TOPIC_ARN = aws_sns_topic.order_events.arn
      ORDER_TIMINGS          = jsonencode(var.order_timings_seconds)
      # The redrive count: process-order counts an order's last failed receive as dead-lettered.
      MAX_RECEIVE_COUNT = var.max_receive_count
    }
    "get-order" = {
      TABLE_NAME = aws_dynamodb_table.orders.name
    }
    "advance-orders" = {
      TABLE_NAME             = aws_dynamodb_table.orders.name
      ORDER_EVENTS_TOPIC_ARN = aws_sns_topic.order_events.arn
      ORDER_TIMINGS          = jsonencode(var.order_timings_seconds)
    }
    "cart" = {
      CARTS_TABLE_NAME = aws_dynamodb_table.carts.name
      CART_TTL_SECONDS = var.cart_ttl_seconds
    }
    "checkout" = {
      CARTS_TABLE_NAME = aws_dynamodb_table.carts.name
      CART_TTL_SECONDS = var.cart_ttl_seconds
      QUEUE_URL        = aws_sqs_queue.orders.url
    }
    "my-orders" = {
      TABLE_NAME = aws_dynamodb_table.orders.name
    }
    "notify-customer" = {
      TABLE_NAME = aws_dynamodb_table.orders.name
      MAIL_FROM  = var.customer_mail_from
    }
  }
}
