# nat_instance = true: the private subnets' way out is one NAT instance in the first zone's public
# subnet instead of NAT gateways (about $7 a month with its address and disk against $33 a gateway;
# docs/operations.md). What it gives up: one instance in one zone carries every zone's egress, its
# bandwidth is the instance type's, and it is patched by replacing it. EC2's simplified automatic
# recovery (on by default for supported types, T4g among them) restarts it on other hardware after a
# failed system status check; a zone outage stops egress until the zone is back.

locals {
  # The latest Amazon Linux 2023 for arm64, resolved by EC2 at launch as the web tier's default image
  # is: no data source, so an offline plan needs no AWS call.
  nat_instance_image_id = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
  nat_instance_name     = "${local.name}-nat"
  nat_instance_ports    = { http = 80, https = 443 }
}

# The instance's image, disk, metadata options and boot script, in a launch template: only a template
# resolves an SSM parameter for the image at launch (for a root_block_device on the instance itself
# the provider looks the image up by its ID first). A new version (a changed boot script) replaces the
# instance.
resource "aws_launch_template" "nat" {
  count = local.nat_instance ? 1 : 0

  name_prefix            = "${local.nat_instance_name}-"
  description            = "NAT instance of the order web tier's private subnets (Amazon Linux 2023)"
  image_id               = local.nat_instance_image_id
  instance_type          = var.nat_instance_type
  update_default_version = true

  monitoring {
    enabled = var.detailed_monitoring
  }

  # IMDSv2 only, one hop. The instance has no role: nothing on it needs AWS credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  # The image's 8 GiB, encrypted gp3.
  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = 8
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/nat-instance.sh.tftpl", {
    vpc_cidr = var.vpc_cidr
  }))

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = local.nat_instance_name }
  }
}

# No key pair and no SSH: its security group admits only the web instances' HTTP and HTTPS.
resource "aws_instance" "nat" {
  count = local.nat_instance ? 1 : 0

  launch_template {
    id      = aws_launch_template.nat[0].id
    version = aws_launch_template.nat[0].latest_version
  }

  subnet_id                   = aws_subnet.public[0].id
  vpc_security_group_ids      = [aws_security_group.nat[0].id]
  associate_public_ip_address = true
  # It forwards packets that are neither from nor to itself.
  source_dest_check = false
  # The provider sends the instance's own setting at launch, over the template's: the same here.
  monitoring = var.detailed_monitoring

  # Simplified automatic recovery: EC2's default for supported instance types, stated here.
  maintenance_options {
    auto_recovery = "default"
  }

  tags = { Name = local.nat_instance_name }

  lifecycle {
    # A replacement runs before the routes move to it and the old one goes.
    create_before_destroy = true
  }
}

resource "aws_security_group" "nat" {
  count = local.nat_instance ? 1 : 0

  name_prefix = "${local.nat_instance_name}-"
  description = "Order web NAT instance: HTTP(S) from the web instances only, HTTP(S) out; no SSH."
  vpc_id      = aws_vpc.this[0].id

  tags = { Name = local.nat_instance_name }

  lifecycle {
    create_before_destroy = true
  }
}

# HTTP and HTTPS from the web instances, nothing from anywhere else. (The instances' own egress is
# HTTPS only; HTTP is admitted here as a NAT gateway would pass it.)
resource "aws_vpc_security_group_ingress_rule" "nat_from_instances" {
  for_each = local.nat_instance ? local.nat_instance_ports : {}

  security_group_id            = aws_security_group.nat[0].id
  description                  = "${upper(each.key)} from the web instances, to forward"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.instance.id
}

# Out on HTTP and HTTPS: the forwarded calls, and the instance's own package downloads at boot. DNS
# and time use the VPC's link-local services, which security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "nat_out" {
  for_each = local.nat_instance ? local.nat_instance_ports : {}

  security_group_id = aws_security_group.nat[0].id
  description       = "${upper(each.key)} out, forwarded or the instance's own"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = "0.0.0.0/0"
}
