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

  # The functions, declared once (platform/functions.json): each gets its role, log group, grants,
  # alarms and trigger here; memory and timeout may be changed per deployment (var.lambda_functions).
  declared_functions = jsondecode(file("${path.module}/../platform/functions.json"))
  functions = {
    for name, f in local.declared_functions : name => {
      memory_mb       = coalesce(try(var.lambda_functions[name].memory_mb, null), f.memoryMb)
      timeout_seconds = coalesce(try(var.lambda_functions[name].timeout_seconds, null), f.timeoutSeconds)
      description     = f.description
      environment     = f.environment
      permissions     = f.permissions
    }
  }

  # IAM role names are global to the account: the prefix and the region in each keep two stacks, or one
  # prefix in two regions, apart. The function's part is cut to 27 characters (the longest prefix and
  # region code then fit IAM's 64), as platform/functions.ts roleNamePart does for CloudFormation.
  lambda_role_names = {
    for name in keys(local.declared_functions) :
    name => "${var.name_prefix}${length(name) <= 27 ? name : "${substr(name, 0, 20)}-${substr(sha1(name), 0, 6)}"}-${var.aws_region}"
  }

  # The functions whose queue or schedule trigger this module writes out, and which.
  wired_triggers = { "process-order" = "queue", "notify-customer" = "queue", "advance-orders" = "schedule" }

  # The value of each ResourceRef a function's environment may name (platform/functions.ts).
  environment_values = {
    "orders-queue-url"       = aws_sqs_queue.orders.url
    "orders-table-name"      = aws_dynamodb_table.orders.name
    "order-events-topic-arn" = aws_sns_topic.order_events.arn
    "lifecycle-timings"      = jsonencode(var.order_timings_seconds)
    # The redrive count: process-order counts an order's last failed receive as dead-lettered.
    "max-receive-count"   = tostring(var.max_receive_count)
    "carts-table-name"    = aws_dynamodb_table.carts.name
    "cart-ttl-seconds"    = tostring(var.cart_ttl_seconds)
    "customer-mail-from"  = var.customer_mail_from
    "shop-url"            = var.shop_url
    "products-table-name" = aws_dynamodb_table.products.name
  }

  # What each PermissionTarget a function's grant may name is: its ARN, and for the mail identity the
  # condition that holds the sender to the configured address (SES v2 SendEmail is authorised on the
  # sending identity). Queries on the orders table are granted on an index only, never on the table, so
  # no function can Query or Scan the whole orders table; the products table (the menu, a few dozen
  # items) is read whole by a Scan.
  permission_resources = {
    "orders-queue"                 = aws_sqs_queue.orders.arn
    "customer-notifications-queue" = aws_sqs_queue.customer_notifications.arn
    "orders-table"                 = aws_dynamodb_table.orders.arn
    "orders-table-due-index"       = "${aws_dynamodb_table.orders.arn}/index/${local.due_index_name}"
    "orders-table-account-index"   = "${aws_dynamodb_table.orders.arn}/index/${local.account_index_name}"
    "carts-table"                  = aws_dynamodb_table.carts.arn
    "products-table"               = aws_dynamodb_table.products.arn
    "order-events-topic"           = aws_sns_topic.order_events.arn
    "notifications-key"            = aws_kms_key.notifications.arn
    "customer-mail-identity"       = aws_sesv2_email_identity.customer_mail_from.arn
  }
  permission_conditions = {
    "customer-mail-identity" = { StringEquals = { "ses:FromAddress" = var.customer_mail_from } }
  }
}
