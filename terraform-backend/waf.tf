# AWS WAF in front of the API stage (terraform-modules/waf-acl: AWS's common rule set, a rate limit
# per client address, a log without credentials). The web tier reaches the API through its NAT
# gateways, so the rate limit is high enough for all of its traffic from one address; the usage
# plan is what throttles the key.
module "api_waf" {
  source = "../terraform-modules/waf-acl"
  count  = var.waf_enabled ? 1 : 0

  name                     = "${var.name_prefix}orders-api"
  description              = "Orders API stage: AWS managed common rule set and a rate limit per client IP."
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  resource_arn             = aws_api_gateway_stage.orders.arn
  log_retention_days       = var.log_retention_days
}
