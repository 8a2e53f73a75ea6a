locals {
  name = "${var.name_prefix}order-web"

  create_vpc         = var.vpc_id == null
  availability_zones = coalesce(var.availability_zones, ["${var.aws_region}a", "${var.aws_region}b"])
  vpc_id             = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  subnet_ids         = local.create_vpc ? aws_subnet.public[*].id : var.subnet_ids

  https = var.certificate_arn != null

  # Account and partition without a data source (so an offline plan needs no API call): read from
  # the ARN of the role this module creates.
  role_arn_parts          = split(":", aws_iam_role.web.arn)
  partition               = local.role_arn_parts[1]
  account_id              = local.role_arn_parts[4]
  api_key_parameter_arn   = "arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter/${trimprefix(var.api_key_parameter_name, "/")}"
  artifact_object_key     = "order-web/${filesha256(var.web_artifact_path)}.tar.gz"
  app_install_dir         = "/opt/order-web"
  load_balancer_listeners = local.https ? [80, 443] : [80]
}
