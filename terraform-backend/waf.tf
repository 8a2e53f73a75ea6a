# AWS WAF in front of the API stage: AWS's common rule set (bad inputs, known exploits, oversize
# bodies) and a rate limit per client address. The web tier reaches the API through its NAT
# gateways, so the rate limit is high enough for all of its traffic from one address; the usage
# plan is what throttles the key.
resource "aws_wafv2_web_acl" "api" {
  count = var.waf_enabled ? 1 : 0

  name        = "${var.name_prefix}orders-api"
  description = "Orders API stage: AWS managed common rule set and a rate limit per client IP."
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
      metric_name                = "${var.name_prefix}orders-api-common-rule-set"
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
      metric_name                = "${var.name_prefix}orders-api-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name_prefix}orders-api"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "api" {
  count = var.waf_enabled ? 1 : 0

  resource_arn = aws_api_gateway_stage.orders.arn
  web_acl_arn  = aws_wafv2_web_acl.api[0].arn
}

# WAF's log of the requests it judged. WAF delivers only to a group whose name starts with
# aws-waf-logs-, and adds the group's resource policy for its delivery itself.
resource "aws_cloudwatch_log_group" "waf" {
  count = var.waf_enabled ? 1 : 0

  name              = "aws-waf-logs-${var.name_prefix}orders-api"
  retention_in_days = var.log_retention_days
}

resource "aws_wafv2_web_acl_logging_configuration" "api" {
  count = var.waf_enabled ? 1 : 0

  resource_arn            = aws_wafv2_web_acl.api[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  # The web tier's API key and the customers' ID tokens never reach the log.
  redacted_fields {
    single_header {
      name = "x-api-key"
    }
  }

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}
