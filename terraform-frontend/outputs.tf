output "site_url" {
  description = "URL of the site on the load balancer: https when a certificate is given (point a DNS name covered by it at alb_dns_name), else http."
  value       = "${local.https ? "https" : "http"}://${aws_lb.web.dns_name}"
}

output "insecure_http_warning" {
  description = "A warning when the site is served over plain HTTP (allow_insecure_http without a certificate); null when it is served over HTTPS."
  value       = local.https ? null : "WARNING: INSECURE. The shop is served over plain HTTP (allow_insecure_http = true, no certificate_arn): customers' passwords and session cookies cross the network in clear text. For a trial only; give certificate_arn before real customers use it."
}

output "alb_dns_name" {
  description = "DNS name of the load balancer, for a CNAME or alias record."
  value       = aws_lb.web.dns_name
}

output "autoscaling_group_name" {
  description = "Name of the web tier's Auto Scaling group."
  value       = aws_autoscaling_group.web.name
}

output "artifact_bucket" {
  description = "Name of the S3 bucket holding the web tier's builds."
  value       = aws_s3_bucket.artifacts.id
}

output "artifact_object_key" {
  description = "Key of the build the instances run (it holds the build's SHA-256)."
  value       = aws_s3_object.web_artifact.key
}

output "launch_template_id" {
  description = "ID of the web tier's launch template."
  value       = aws_launch_template.web.id
}

output "vpc_id" {
  description = "VPC the web tier runs in (created or given)."
  value       = local.vpc_id
}

output "private_subnet_ids" {
  description = "Subnets the instances run in (no public addresses)."
  value       = local.private_subnet_ids
}

output "availability_zones" {
  description = "Zones of the created VPC, from the region's available zones."
  value       = local.create_vpc ? local.availability_zones : null
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL protecting the load balancer; null with waf_enabled = false."
  value       = one(module.web_waf[*].arn)
}

output "access_log_bucket" {
  description = "Bucket of the load balancer's access logs (under <name>-alb/AWSLogs/)."
  value       = aws_s3_bucket.access_logs.id
}

output "alarm_names" {
  description = "The web tier's alarms: 5xx answered, unhealthy hosts and no healthy host."
  value       = { alb_5xx = aws_cloudwatch_metric_alarm.alb_5xx.alarm_name, unhealthy_hosts = aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name, no_healthy_hosts = aws_cloudwatch_metric_alarm.no_healthy_hosts.alarm_name }
}

output "instance_log_group_name" {
  description = "CloudWatch log group of the instances' logs: a stream per instance and file ({instance_id}/app, /app-errors, /pm2)."
  value       = aws_cloudwatch_log_group.web.name
}

output "waf_log_group_name" {
  description = "CloudWatch log group of WAF's request log (cookies, Authorization and x-api-key redacted); null with waf_enabled = false."
  value       = one(module.web_waf[*].log_group_name)
}

output "nat_gateway_public_ips" {
  description = "Addresses the instances' calls to the orders API come from (the NAT gateways'); empty with nat_instance = true (see nat_instance_public_ip)."
  value       = aws_eip.nat[*].public_ip
}

output "nat_instance_id" {
  description = "ID of the NAT instance (nat_instance = true), for its status checks and its replacement; null with NAT gateways."
  value       = one(aws_instance.nat[*].id)
}

output "nat_instance_public_ip" {
  description = "Address the instances' calls to the orders API come from with nat_instance = true (the NAT instance's public IPv4, which a replacement changes); null with NAT gateways."
  value       = one(aws_instance.nat[*].public_ip)
}

output "event_queue_prefix" {
  description = "Name prefix of the web processes' order event queues (EVENT_QUEUE_PREFIX, <prefix>order-web-events-): each process subscribes one, named this and 16 hex digits, to order-events; the instances may touch no other queue."
  value       = local.event_queue_prefix
}
