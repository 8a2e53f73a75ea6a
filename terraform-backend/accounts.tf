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

  # A new address (UpdateUserAttributes, which any signed-in customer may call on Cognito) takes effect
  # only once its code is typed: until then the account keeps the verified one, so nobody can hold an
  # address that is not theirs, as staff to be or as a customer waiting for its owner to sign up.
  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
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

  # Every customer's account: a new pool cannot take the old one's passwords, so no plan destroys or
  # replaces it until this is removed on purpose (docs/deploy-terraform.md, Tearing down).
  lifecycle {
    prevent_destroy = true
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

# The shop's staff: members (npm run staff -- add EMAIL) carry the group in their ID token, and the
# /staff pages and routes are theirs alone. Its name is the one the code checks (platform/settings.ts).
resource "aws_cognito_user_group" "staff" {
  name         = "staff"
  user_pool_id = aws_cognito_user_pool.customers.id
  description  = "The shop's staff: the /staff pages and routes are theirs."
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
