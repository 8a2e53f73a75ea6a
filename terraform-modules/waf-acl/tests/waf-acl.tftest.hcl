# The shared web ACL on its own, on the mock provider: what both roots get from it.
mock_provider "aws" {
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/dev-guarded/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-dev-guarded" }
  }
}

variables {
  name                     = "dev-guarded"
  description              = "A guarded thing."
  rate_limit_per_5_minutes = 1234
  resource_arn             = "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod"
  log_retention_days       = 14
}

run "common_rules_and_the_rate_limit_guard_the_given_resource" {
  command = plan

  assert {
    condition     = aws_wafv2_web_acl.this.name == "dev-guarded" && aws_wafv2_web_acl.this.scope == "REGIONAL" && length(aws_wafv2_web_acl.this.default_action[0].allow) == 1
    error_message = "The ACL carries the given name, is regional and allows what no rule blocks."
  }
  assert {
    condition     = toset([for r in aws_wafv2_web_acl.this.rule : r.name]) == toset(["aws-common-rule-set", "rate-limit-per-ip"])
    error_message = "Two rules: AWS's common rule set and the rate limit per IP."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].managed_rule_group_statement[0].name if r.name == "aws-common-rule-set"]) == "AWSManagedRulesCommonRuleSet" && one([for r in aws_wafv2_web_acl.this.rule : length(r.override_action[0].none) if r.name == "aws-common-rule-set"]) == 1
    error_message = "The common rule set is AWS's, and its own actions (block) apply."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].limit if r.name == "rate-limit-per-ip"]) == 1234 && one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].aggregate_key_type if r.name == "rate-limit-per-ip"]) == "IP" && one([for r in aws_wafv2_web_acl.this.rule : length(r.action[0].block) if r.name == "rate-limit-per-ip"]) == 1
    error_message = "The rate limit is the given one, per client IP, and blocks."
  }
  assert {
    condition     = toset([for r in aws_wafv2_web_acl.this.rule : r.visibility_config[0].metric_name]) == toset(["dev-guarded-common-rule-set", "dev-guarded-rate-limit"]) && aws_wafv2_web_acl.this.visibility_config[0].metric_name == "dev-guarded"
    error_message = "Each rule's metrics, and the ACL's, are named after the ACL (the dashboards find them by name)."
  }
  assert {
    condition     = aws_wafv2_web_acl_association.this.resource_arn == var.resource_arn
    error_message = "The ACL is associated with the resource it is given."
  }
}

run "its_log_keeps_no_credentials" {
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "aws-waf-logs-dev-guarded" && aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "The log group is aws-waf-logs-<name> (WAF's rule), kept the given days."
  }
  assert {
    condition     = aws_wafv2_web_acl_logging_configuration.this.resource_arn == aws_wafv2_web_acl.this.arn && aws_wafv2_web_acl_logging_configuration.this.log_destination_configs == toset([aws_cloudwatch_log_group.this.arn])
    error_message = "The ACL logs to that group."
  }
  assert {
    condition     = toset([for field in aws_wafv2_web_acl_logging_configuration.this.redacted_fields : one(field.single_header).name]) == toset(["cookie", "authorization", "x-api-key"])
    error_message = "The session cookie, the ID token (Authorization) and the API key are redacted from the log."
  }
  assert {
    condition     = output.arn == aws_wafv2_web_acl.this.arn && output.log_group_name == "aws-waf-logs-dev-guarded" && output.guarded_resource_arn == var.resource_arn && output.rate_limit_per_5_minutes == 1234 && output.log_retention_days == 14
    error_message = "The outputs are the ACL's ARN, its log group's name and retention, what it guards and its rate limit."
  }
}
