resource "aws_api_gateway_rest_api" "orders" {
  name        = "${var.name_prefix}orders-api"
  description = "Order pipeline: POST /orders queues an order, GET /orders/{id} reads it, GET /orders?ids= reads up to 100; /me routes act for the signed-in customer."

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_resource" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "orders"
}

resource "aws_api_gateway_resource" "order" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.orders.id
  path_part   = "{id}"
}

resource "aws_api_gateway_method" "post_orders" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.orders.id
  http_method      = "POST"
  authorization    = "NONE"
  api_key_required = true
}

resource "aws_api_gateway_method" "get_order" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.order.id
  http_method      = "GET"
  authorization    = "NONE"
  api_key_required = true

  request_parameters = {
    "method.request.path.id" = true
  }
}

# The web tier's status watches read their orders a hundred at a time here.
resource "aws_api_gateway_method" "get_orders" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.orders.id
  http_method      = "GET"
  authorization    = "NONE"
  api_key_required = true

  request_parameters = {
    "method.request.querystring.ids" = true
  }
}

resource "aws_api_gateway_integration" "post_orders" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.orders.id
  http_method             = aws_api_gateway_method.post_orders.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["submit-order"].invoke_arn
}

resource "aws_api_gateway_integration" "get_order" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.order.id
  http_method             = aws_api_gateway_method.get_order.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["get-order"].invoke_arn
}

resource "aws_api_gateway_integration" "get_orders" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.orders.id
  http_method             = aws_api_gateway_method.get_orders.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["get-order"].invoke_arn
}

resource "aws_lambda_permission" "api_submit_order" {
  statement_id   = "AllowApiGatewayPostOrders"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["submit-order"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/POST/orders"
  source_account = local.account_id
}

resource "aws_lambda_permission" "api_get_order" {
  statement_id   = "AllowApiGatewayGetOrder"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["get-order"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/GET/orders/*"
  source_account = local.account_id
}

resource "aws_lambda_permission" "api_get_orders" {
  statement_id   = "AllowApiGatewayGetOrders"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["get-order"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/GET/orders"
  source_account = local.account_id
}

resource "aws_api_gateway_deployment" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id

  # A new deployment whenever a route, method or integration changes, so the stage serves it.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.orders,
      aws_api_gateway_resource.order,
      aws_api_gateway_method.post_orders,
      aws_api_gateway_method.get_order,
      aws_api_gateway_method.get_orders,
      aws_api_gateway_integration.post_orders,
      aws_api_gateway_integration.get_order,
      aws_api_gateway_integration.get_orders,
      aws_api_gateway_authorizer.customers,
      aws_api_gateway_resource.me,
      aws_api_gateway_resource.me_cart,
      aws_api_gateway_resource.me_cart_lines,
      aws_api_gateway_resource.me_cart_line,
      aws_api_gateway_resource.me_orders,
      aws_api_gateway_resource.me_order,
      aws_api_gateway_method.get_cart,
      aws_api_gateway_method.put_cart_line,
      aws_api_gateway_method.delete_cart_line,
      aws_api_gateway_method.post_my_orders,
      aws_api_gateway_method.get_my_orders,
      aws_api_gateway_method.get_my_order,
      aws_api_gateway_integration.get_cart,
      aws_api_gateway_integration.put_cart_line,
      aws_api_gateway_integration.delete_cart_line,
      aws_api_gateway_integration.post_my_orders,
      aws_api_gateway_integration.get_my_orders,
      aws_api_gateway_integration.get_my_order,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# API Gateway writes to CloudWatch Logs through one role per account and region. Managed here unless
# the account already sets it elsewhere (api_gateway_cloudwatch_role = false).
resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.api_gateway_cloudwatch_role ? 1 : 0

  name = "${var.name_prefix}api-gateway-cloudwatch-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.api_gateway_cloudwatch_role ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count      = var.api_gateway_cloudwatch_role ? 1 : 0
  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]

  # Destroy leaves the account's setting as it is (provider 5 does; its reset_on_delete is deprecated).
  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn
}

# One JSON line per request: who, what, how it ended and how long it took. No body, no headers, so
# neither the API key nor an order's content reaches the logs.
resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name_prefix}orders-api/access"
  retention_in_days = var.log_retention_days
}

# The group API Gateway writes execution logs to, made here so it has a retention.
resource "aws_cloudwatch_log_group" "api_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.orders.id}/${var.api_stage_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_api_gateway_stage" "orders" {
  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.api_execution]

  rest_api_id          = aws_api_gateway_rest_api.orders.id
  deployment_id        = aws_api_gateway_deployment.orders.id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      xrayTraceId        = "$context.xrayTraceId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationStatus  = "$context.integration.status"
      errorMessage       = "$context.error.message"
      wafStatus          = "$context.waf.status"
    })
  }
}

# Execution logging and per-method metrics for every method; data tracing stays off (it would log
# request bodies and headers, the API key among them).
resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  stage_name  = aws_api_gateway_stage.orders.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled    = true
    logging_level      = var.api_execution_logging_level
    data_trace_enabled = false
  }
}

# The web tier's key is not managed here: the provider reads an API key's value back into state
# (aws_api_gateway_api_key and aws_api_gateway_usage_plan_key have no write-only value), so the key,
# its place in this usage plan and the SecureString that holds it are made by `npm run api-key --
# create` (ops/api-key.ts), which finds the plan by its name. See the README's "The API key and
# Terraform state".
resource "aws_api_gateway_usage_plan" "web" {
  name = local.api_key_name

  api_stages {
    api_id = aws_api_gateway_rest_api.orders.id
    stage  = aws_api_gateway_stage.orders.stage_name
  }

  throttle_settings {
    rate_limit  = var.api_throttle_rate_limit
    burst_limit = var.api_throttle_burst_limit
  }
}

# A deployment made before the key left this module keeps its key, usage plan key and parameter:
# they leave the state without being destroyed, and `npm run api-key -- create` finds them in place.
removed {
  from = aws_api_gateway_api_key.web

  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_api_gateway_usage_plan_key.web

  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_ssm_parameter.api_key

  lifecycle {
    destroy = false
  }
}
