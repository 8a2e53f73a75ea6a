# AWS WAF in front of the load balancer (terraform-modules/waf-acl: AWS's common rule set, a rate
# limit per client address, a log without credentials).
module "web_waf" {
  source = "../terraform-modules/waf-acl"
  count  = var.waf_enabled ? 1 : 0

  name                     = local.name
  description              = "Order web load balancer: AWS managed common rule set and a rate limit per client IP."
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  resource_arn             = aws_lb.web.arn
  log_retention_days       = var.cloudwatch_log_retention_days
}
