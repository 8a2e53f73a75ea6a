resource "aws_api_gateway_rest_api" "orders" {
  name        = "${var.name_prefix}orders-api"
  description = "Order pipeline: POST /orders queues an order, GET /orders/{id} reads it, GET /orders?ids= reads up to 100; /me routes act for the signed-in customer."

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

locals {
  # Every API route of every function (platform/functions.json), keyed "METHOD /path".
  api_routes = merge([
    for name, f in local.declared_functions : {
      for route in try(f.trigger.routes, []) : route => {
        function   = name
        method     = split(" ", route)[0]
        path       = trimprefix(split(" ", route)[1], "/")
        segments   = split("/", trimprefix(split(" ", route)[1], "/"))
        authorizer = try(f.trigger.authorizer, "none")
      }
    } if f.trigger.type == "api"
  ]...)

  # Every resource the routes need, each path with the paths above it ("me", "me/cart", ...).
  api_paths          = distinct(flatten([for route in values(local.api_routes) : [for depth in range(1, length(route.segments) + 1) : join("/", slice(route.segments, 0, depth))]]))
  api_paths_by_depth = { for depth in range(1, 5) : depth => toset([for path in local.api_paths : path if length(split("/", path)) == depth]) }
  api_resource_ids = merge(
    { for path, resource in aws_api_gateway_resource.depth1 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth2 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth3 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.depth4 : path => resource.id },
  )
}

# A resource's parent must be another resource of the API, and a resource block cannot refer to its
# own instances: so one block a depth, each refers to the one above. A route deeper than four fails
# the plan (terraform_data.declared_functions).
resource "aws_api_gateway_resource" "depth1" {
  for_each = local.api_paths_by_depth[1]

  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = each.key
}

resource "aws_api_gateway_resource" "depth2" {
  for_each = local.api_paths_by_depth[2]

  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.depth1[join("/", slice(split("/", each.key), 0, 1))].id
  path_part   = split("/", each.key)[1]
}

resource "aws_api_gateway_resource" "depth3" {
  for_each = local.api_paths_by_depth[3]

  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.depth2[join("/", slice(split("/", each.key), 0, 2))].id
  path_part   = split("/", each.key)[2]
}

resource "aws_api_gateway_resource" "depth4" {
  for_each = local.api_paths_by_depth[4]

  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.depth3[join("/", slice(split("/", each.key), 0, 3))].id
  path_part   = split("/", each.key)[3]
}

# What Terraform needs of the list beyond what it reads (platform/functions.ts checks the rest when
# it builds): an override names a declared function, a route is at most four segments deep, its
# authorizer is one this API has, and a queue or schedule trigger is one this module wires.
resource "terraform_data" "declared_functions" {
  lifecycle {
    precondition {
      condition     = alltrue([for name in keys(var.lambda_functions) : contains(keys(local.declared_functions), name)])
      error_message = "Each key of lambda_functions must be a function declared in platform/functions.json."
    }
    precondition {
      condition     = alltrue([for route in values(local.api_routes) : length(route.segments) <= 4])
      error_message = "An API route has at most four path segments (terraform-backend/api.tf makes resources four deep); add a depth there for a deeper one."
    }
    precondition {
      condition     = alltrue([for route in values(local.api_routes) : contains(["none", "cognito"], route.authorizer)])
      error_message = "An API route's authorizer must be cognito, or none given."
    }
    precondition {
      condition = alltrue([for name, f in local.declared_functions : contains(["api"], f.trigger.type) || contains(keys(local.wired_triggers), name)])
      # The two event source mappings and the kitchen's schedule are written out (customer-notifications.tf, lambdas.tf).
      error_message = "A queue or schedule trigger is wired in Terraform for ${join(", ", keys(local.wired_triggers))} only: add the mapping or the rule for a new one."
    }
  }
}

# Every route behind the web tier's API key; a `cognito` route also needs the customer's ID token,
# checked by the authorizer before the function runs.
resource "aws_api_gateway_method" "route" {
  for_each = local.api_routes

  rest_api_id = aws_api_gateway_rest_api.orders.id
  resource_id = local.api_resource_ids[each.value.path]
  http_method = each.value.method
  # Any authorizer named but none is the customers' (a name this API does not have fails the plan above).
  authorization    = each.value.authorizer == "none" ? "NONE" : "COGNITO_USER_POOLS"
  authorizer_id    = each.value.authorizer == "none" ? null : aws_api_gateway_authorizer.customers.id
  api_key_required = true

  request_parameters = { for segment in each.value.segments : "method.request.path.${trim(segment, "{}")}" => true if startswith(segment, "{") }
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.api_routes

  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = local.api_resource_ids[each.value.path]
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this[each.value.function].invoke_arn
}

# API Gateway may invoke each function for its own routes only (method and path), from this API.
resource "aws_lambda_permission" "api" {
  for_each = local.api_routes

  statement_id   = "AllowApiGateway${title(lower(each.value.method))}${join("", [for segment in each.value.segments : title(replace(segment, "/[^a-z0-9]/", ""))])}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[each.value.function].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/${each.value.method}/${join("/", [for segment in each.value.segments : startswith(segment, "{") ? "*" : segment])}"
  source_account = local.account_id

  # A renamed statement is added before the old one goes, so the route never answers 500 meanwhile.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_deployment" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id

  # A new deployment whenever a route, method or integration changes, so the stage serves it.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.depth1,
      aws_api_gateway_resource.depth2,
      aws_api_gateway_resource.depth3,
      aws_api_gateway_resource.depth4,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
      aws_api_gateway_authorizer.customers,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# API Gateway writes to CloudWatch Logs through one role per account and region, an account setting
# rather than this stack's: set here only when asked (api_gateway_cloudwatch_role, off by default;
# its description says what each choice costs).
resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.api_gateway_cloudwatch_role ? 1 : 0

  name = "${var.name_prefix}api-gateway-cloudwatch-logs-${var.aws_region}"
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
