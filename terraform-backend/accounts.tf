# Customers' accounts (Cognito), and the API routes under /me that act for the signed-in customer:
# their cart, their checkout and their orders. Each /me route needs the customer's ID token (the
# Cognito authorizer) and the web tier's API key, so only the web tier, on behalf of a signed-in
# customer, reaches them. The functions take the customer from the token's claims, never the body.

resource "aws_cognito_user_pool" "customers" {
  name = "${var.name_prefix}${var.user_pool_name}"
  # Customers sign in with their email address, which sign-up confirms with a code.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.user_pool_deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = "OFF"
  # Threat protection is a feature of the Plus plan only; without it the default plan is enough.
  user_pool_tier = var.user_pool_advanced_security_mode == "OFF" ? "ESSENTIALS" : "PLUS"

  username_configuration {
    case_sensitive = false
  }

  password_policy {
    minimum_length                   = var.user_pool_password_policy.minimum_length
    require_lowercase                = var.user_pool_password_policy.require_lowercase
    require_uppercase                = var.user_pool_password_policy.require_uppercase
    require_numbers                  = var.user_pool_password_policy.require_numbers
    require_symbols                  = var.user_pool_password_policy.require_symbols
    temporary_password_validity_days = 7
  }

  # A forgotten password is reset by a code to the confirmed address, never by SMS.
  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  user_pool_add_ons {
    advanced_security_mode = var.user_pool_advanced_security_mode
  }

  # Cognito's own sender has a small daily quota per account: enough to try the shop, not to run it.
  # Through SES, sign-up and password-reset codes come from customer_mail_from, at SES's quotas.
  email_configuration {
    email_sending_account = var.user_pool_mail_through_ses ? "DEVELOPER" : "COGNITO_DEFAULT"
    source_arn            = var.user_pool_mail_through_ses ? aws_sesv2_email_identity.customer_mail_from.arn : null
    from_email_address    = var.user_pool_mail_through_ses ? var.customer_mail_from : null
  }
}

# The web tier's client: it runs sign-in on the server with USER_PASSWORD_AUTH, so it has no secret
# to keep (a secret would sit on every instance and prove nothing the API key does not).
resource "aws_cognito_user_pool_client" "web" {
  name                = var.user_pool_client_name
  user_pool_id        = aws_cognito_user_pool.customers.id
  generate_secret     = false
  explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  # "User does not exist" and "wrong password" answer alike, so sign-in does not tell who has an account.
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  id_token_validity      = var.user_pool_id_token_validity_minutes
  access_token_validity  = var.user_pool_id_token_validity_minutes
  refresh_token_validity = var.user_pool_refresh_token_validity_days

  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "days"
  }
}

# API Gateway checks the ID token in the Authorization header (signature, expiry, this pool) before
# the function runs, and passes its claims to the function.
resource "aws_api_gateway_authorizer" "customers" {
  name            = "${var.name_prefix}customers"
  rest_api_id     = aws_api_gateway_rest_api.orders.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [aws_cognito_user_pool.customers.arn]
  identity_source = "method.request.header.Authorization"
}

# --- /me routes (platform/functions.ts: cart, checkout, my-orders)

resource "aws_api_gateway_resource" "me" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "me"
}

resource "aws_api_gateway_resource" "me_cart" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.me.id
  path_part   = "cart"
}

resource "aws_api_gateway_resource" "me_cart_lines" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.me_cart.id
  path_part   = "lines"
}

resource "aws_api_gateway_resource" "me_cart_line" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.me_cart_lines.id
  path_part   = "{product_id}"
}

resource "aws_api_gateway_resource" "me_orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.me.id
  path_part   = "orders"
}

resource "aws_api_gateway_resource" "me_order" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_resource.me_orders.id
  path_part   = "{id}"
}

resource "aws_api_gateway_method" "get_cart" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_cart.id
  http_method      = "GET"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true
}

resource "aws_api_gateway_method" "put_cart_line" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_cart_line.id
  http_method      = "PUT"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true

  request_parameters = {
    "method.request.path.product_id" = true
  }
}

resource "aws_api_gateway_method" "delete_cart_line" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_cart_line.id
  http_method      = "DELETE"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true

  request_parameters = {
    "method.request.path.product_id" = true
  }
}

resource "aws_api_gateway_method" "post_my_orders" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_orders.id
  http_method      = "POST"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true
}

resource "aws_api_gateway_method" "get_my_orders" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_orders.id
  http_method      = "GET"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true
}

resource "aws_api_gateway_method" "get_my_order" {
  rest_api_id      = aws_api_gateway_rest_api.orders.id
  resource_id      = aws_api_gateway_resource.me_order.id
  http_method      = "GET"
  authorization    = "COGNITO_USER_POOLS"
  authorizer_id    = aws_api_gateway_authorizer.customers.id
  api_key_required = true

  request_parameters = {
    "method.request.path.id" = true
  }
}

resource "aws_api_gateway_integration" "get_cart" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_cart.id
  http_method             = aws_api_gateway_method.get_cart.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["cart"].invoke_arn
}

resource "aws_api_gateway_integration" "put_cart_line" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_cart_line.id
  http_method             = aws_api_gateway_method.put_cart_line.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["cart"].invoke_arn
}

resource "aws_api_gateway_integration" "delete_cart_line" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_cart_line.id
  http_method             = aws_api_gateway_method.delete_cart_line.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["cart"].invoke_arn
}

resource "aws_api_gateway_integration" "post_my_orders" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_orders.id
  http_method             = aws_api_gateway_method.post_my_orders.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["checkout"].invoke_arn
}

resource "aws_api_gateway_integration" "get_my_orders" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_orders.id
  http_method             = aws_api_gateway_method.get_my_orders.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["my-orders"].invoke_arn
}

resource "aws_api_gateway_integration" "get_my_order" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.me_order.id
  http_method             = aws_api_gateway_method.get_my_order.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this["my-orders"].invoke_arn
}

# API Gateway may invoke each function for its own routes only (method and path), from this API.
resource "aws_lambda_permission" "api_cart" {
  for_each = {
    AllowApiGatewayGetCart        = "GET/me/cart"
    AllowApiGatewayPutCartLine    = "PUT/me/cart/lines/*"
    AllowApiGatewayDeleteCartLine = "DELETE/me/cart/lines/*"
  }

  statement_id   = each.key
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["cart"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/${each.value}"
  source_account = local.account_id
}

resource "aws_lambda_permission" "api_checkout" {
  statement_id   = "AllowApiGatewayPostMyOrders"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["checkout"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/POST/me/orders"
  source_account = local.account_id
}

resource "aws_lambda_permission" "api_my_orders" {
  for_each = {
    AllowApiGatewayGetMyOrders = "GET/me/orders"
    AllowApiGatewayGetMyOrder  = "GET/me/orders/*"
  }

  statement_id   = each.key
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["my-orders"].function_name
  principal      = "apigateway.amazonaws.com"
  source_arn     = "${aws_api_gateway_rest_api.orders.execution_arn}/*/${each.value}"
  source_account = local.account_id
}

# --- What each /me function may do (read from its code: backend-lambdas/<name>/ and lib/*-store.ts)

# The cart store reads the customer's cart and writes it whole, conditional on its version.
resource "aws_iam_role_policy" "cart" {
  name = "read-write-carts"
  role = aws_iam_role.lambda["cart"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      Resource = aws_dynamodb_table.carts.arn
    }]
  })
}

# Reads the cart, queues the order (the batching sender's SendMessageBatch is authorised by
# sqs:SendMessage), then writes the emptied cart. The orders queue is SSE-SQS: no key to be granted.
resource "aws_iam_role_policy" "checkout" {
  name = "read-write-carts-send-to-orders-queue"
  role = aws_iam_role.lambda["checkout"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        Resource = aws_dynamodb_table.carts.arn
      },
      {
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.orders.arn
      },
    ]
  })
}

resource "aws_iam_role_policy" "my_orders" {
  name = "read-account-orders"
  role = aws_iam_role.lambda["my-orders"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Query on the account index only (the list), never on the table and never a Scan.
        Effect   = "Allow"
        Action   = "dynamodb:Query"
        Resource = "${aws_dynamodb_table.orders.arn}/index/${local.account_index_name}"
      },
      {
        # One order by its id (GET /me/orders/{id}); the function answers 404 unless it is the customer's.
        Effect   = "Allow"
        Action   = "dynamodb:GetItem"
        Resource = aws_dynamodb_table.orders.arn
      },
    ]
  })
}
