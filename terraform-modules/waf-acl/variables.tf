variable "name" {
  description = "The web ACL's name (with the stack's prefix): also its metrics' and, after aws-waf-logs-, its log group's."
  type        = string
}

variable "description" {
  description = "What the web ACL protects, as the console shows it."
  type        = string
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client IP may make in any 5 minutes before WAF blocks it."
  type        = number
}

variable "resource_arn" {
  description = "ARN of what the web ACL guards: an API Gateway stage or a load balancer."
  type        = string
}

variable "log_retention_days" {
  description = "Days WAF's log group keeps events."
  type        = number
}
