output "arn" {
  description = "ARN of the web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of WAF's request log (cookies, Authorization and x-api-key redacted)."
  value       = aws_cloudwatch_log_group.this.name
}

output "guarded_resource_arn" {
  description = "ARN of what the web ACL is associated with."
  value       = aws_wafv2_web_acl_association.this.resource_arn
}

output "rate_limit_per_5_minutes" {
  description = "The rate limit per client IP the ACL enforces."
  value       = one([for rule in aws_wafv2_web_acl.this.rule : rule.statement[0].rate_based_statement[0].limit if rule.name == "rate-limit-per-ip"])
}

output "log_retention_days" {
  description = "Days WAF's log group keeps events."
  value       = aws_cloudwatch_log_group.this.retention_in_days
}
