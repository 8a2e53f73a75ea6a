resource "aws_api_gateway_rest_api" "orders" {
  name        = "${var.name_prefix}orders-api"
  description = "Order pipeline: POST /orders queues an order, GET /orders/{id} reads it."

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

resource "aws_lambda_permission" "api_submit_order" {
  statement_id  = "AllowApiGatewayPostOrders"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["submit-order"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/*/POST/orders"
}

resource "aws_lambda_permission" "api_get_order" {
  statement_id  = "AllowApiGatewayGetOrder"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["get-order"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/*/GET/orders/*"
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
      aws_api_gateway_integration.post_orders,
      aws_api_gateway_integration.get_order,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "orders" {
  rest_api_id   = aws_api_gateway_rest_api.orders.id
  deployment_id = aws_api_gateway_deployment.orders.id
  stage_name    = var.api_stage_name
}

resource "aws_api_gateway_api_key" "web" {
  name        = "${var.name_prefix}order-web"
  description = "Key the web tier sends as x-api-key; its value lives only in the SSM parameter."
}

resource "aws_api_gateway_usage_plan" "web" {
  name = "${var.name_prefix}order-web"

  api_stages {
    api_id = aws_api_gateway_rest_api.orders.id
    stage  = aws_api_gateway_stage.orders.stage_name
  }

  throttle_settings {
    rate_limit  = var.api_throttle_rate_limit
    burst_limit = var.api_throttle_burst_limit
  }
}

resource "aws_api_gateway_usage_plan_key" "web" {
  key_id        = aws_api_gateway_api_key.web.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.web.id
}

# The web tier reads the key from here at start (GetParameter WithDecryption), encrypted with aws/ssm.
resource "aws_ssm_parameter" "api_key" {
  name        = "/${var.name_prefix}order-pipeline/api-key"
  description = "API Gateway key of the order web tier."
  type        = "SecureString"
  value       = aws_api_gateway_api_key.web.value
}
