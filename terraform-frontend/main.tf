locals {
  name = "${var.name_prefix}order-web"

  create_vpc = var.vpc_id == null
  # The first zones the account has in the region, as many as availability_zone_count.
  availability_zones = slice(sort(data.aws_availability_zones.available.names), 0, min(var.availability_zone_count, length(data.aws_availability_zones.available.names)))
  # With nat_instance, one NAT instance and no NAT gateway; else one gateway a zone, or one in all.
  nat_instance       = local.create_vpc && var.nat_instance
  nat_gateway_count  = var.nat_instance ? 0 : (var.nat_gateway_per_zone ? length(local.availability_zones) : 1)
  vpc_id             = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  public_subnet_ids  = local.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  private_subnet_ids = local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids

  # Interface endpoints with vpc_interface_endpoints: the SSM parameter, Session Manager's channels,
  # CloudWatch Logs and metrics, and SQS and SNS (each web process's order event queue).
  interface_endpoint_services = ["ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sqs", "sns"]

  https = var.certificate_arn != null

  # Account and partition without a data source (so an offline plan needs no API call): read from
  # the ARN of the role this module creates.
  role_arn_parts        = split(":", aws_iam_role.web.arn)
  partition             = local.role_arn_parts[1]
  account_id            = local.role_arn_parts[4]
  api_key_parameter_arn = "arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter/${trimprefix(var.api_key_parameter_name, "/")}"
  # Each web process's order event queue is named this and 16 random hex digits (EVENT_QUEUE_PREFIX);
  # the instances may touch no other queue.
  event_queue_prefix      = "${var.name_prefix}order-web-events-"
  event_queue_arn_pattern = "arn:${local.partition}:sqs:${var.aws_region}:${local.account_id}:${local.event_queue_prefix}*"
  artifact_object_key     = "order-web/${filesha256(var.web_artifact_path)}.tar.gz"
  app_install_dir         = "/opt/order-web"
  load_balancer_listeners = local.https ? [80, 443] : [80]
  # Target group names are at most 32 characters; a name_prefix at most 6.
  target_group_name_prefix = substr("${var.name_prefix}web-", 0, 6)
  access_log_prefix        = "${local.name}-alb"
}
