# AWS WAF in front of the load balancer: AWS's common rule set (bad inputs, known exploits, oversize
# bodies) and a rate limit per client address.
resource "aws_wafv2_web_acl" "web" {
  count = var.waf_enabled ? 1 : 0

  name        = local.name
  description = "Order web load balancer: AWS managed common rule set and a rate limit per client IP."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-common-rule-set"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-common-rule-set"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 20

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.name
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "web" {
  count = var.waf_enabled ? 1 : 0

  resource_arn = aws_lb.web.arn
  web_acl_arn  = aws_wafv2_web_acl.web[0].arn
}
