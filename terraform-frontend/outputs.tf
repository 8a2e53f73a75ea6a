output "site_url" {
  description = "URL of the site on the load balancer: https when a certificate is given (point a DNS name covered by it at alb_dns_name), else http."
  value       = "${local.https ? "https" : "http"}://${aws_lb.web.dns_name}"
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
