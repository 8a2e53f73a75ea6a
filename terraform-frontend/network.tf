# The region's zones as the account sees them (names differ between accounts; some lack "<region>b").
# Local and Wavelength zones are left out: they need an opt-in and hold no NAT gateway or ALB.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

resource "aws_internet_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = { Name = local.name }
}

# Public subnets: the load balancer and the NAT gateways only. Nothing here gets a public address
# unless AWS assigns one to the load balancer or a NAT gateway.
resource "aws_subnet" "public" {
  count = local.create_vpc ? length(local.availability_zones) : 0

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-public-${local.availability_zones[count.index]}" }
}

# Private subnets: the instances, with no public addresses and no route from the internet.
resource "aws_subnet" "private" {
  count = local.create_vpc ? length(local.availability_zones) : 0

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 8 + count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-private-${local.availability_zones[count.index]}" }
}

resource "aws_route_table" "public" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }

  tags = { Name = "${local.name}-public" }
}

resource "aws_route_table_association" "public" {
  count = local.create_vpc ? length(local.availability_zones) : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

# The instances' way out for what no VPC endpoint reaches: the orders API (a public regional
# endpoint), Cognito and, without interface endpoints, SSM, CloudWatch, SQS and SNS. One gateway a zone
# by default, so a zone's outage leaves the other zones' instances their way out; nat_gateway_per_zone
# = false keeps one; nat_instance = true none (nat-instance.tf).
resource "aws_eip" "nat" {
  count = local.create_vpc ? local.nat_gateway_count : 0

  domain = "vpc"

  tags = { Name = "${local.name}-nat-${local.availability_zones[count.index]}" }
}

resource "aws_nat_gateway" "this" {
  count      = local.create_vpc ? local.nat_gateway_count : 0
  depends_on = [aws_internet_gateway.this]

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = { Name = "${local.name}-${local.availability_zones[count.index]}" }
}

resource "aws_route_table" "private" {
  count = local.create_vpc ? length(local.availability_zones) : 0

  vpc_id = aws_vpc.this[0].id

  # Out through the zone's NAT gateway (or the first zone's), or the NAT instance's primary interface.
  route {
    cidr_block           = "0.0.0.0/0"
    nat_gateway_id       = local.nat_instance ? null : aws_nat_gateway.this[min(count.index, local.nat_gateway_count - 1)].id
    network_interface_id = local.nat_instance ? aws_instance.nat[0].primary_network_interface_id : null
  }

  tags = { Name = "${local.name}-private-${local.availability_zones[count.index]}" }
}

resource "aws_route_table_association" "private" {
  count = local.create_vpc ? length(local.availability_zones) : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# S3 through a gateway endpoint (no charge): the artifact and the Amazon Linux package repositories,
# which are S3 buckets, never cross the NAT gateways.
resource "aws_vpc_endpoint" "s3" {
  count = local.create_vpc ? 1 : 0

  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${var.aws_region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id

  tags = { Name = "${local.name}-s3" }
}

# With vpc_interface_endpoints, SSM (the key parameter), Session Manager, CloudWatch, SQS and SNS (the
# order event queues) are reached inside the VPC too, so only the orders API and Cognito go through the
# NAT.
resource "aws_vpc_endpoint" "interface" {
  for_each = local.create_vpc && var.vpc_interface_endpoints ? toset(local.interface_endpoint_services) : toset([])

  vpc_id              = aws_vpc.this[0].id
  service_name        = "com.amazonaws.${var.aws_region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = { Name = "${local.name}-${each.key}" }
}

resource "aws_security_group" "endpoints" {
  count = local.create_vpc && var.vpc_interface_endpoints ? 1 : 0

  name_prefix = "${local.name}-endpoints-"
  description = "Order web VPC interface endpoints: HTTPS from the instances only."
  vpc_id      = local.vpc_id

  tags = { Name = "${local.name}-endpoints" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_instances" {
  count = local.create_vpc && var.vpc_interface_endpoints ? 1 : 0

  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the web instances"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.instance.id
}

# Named by prefix and created before the old one is destroyed, so a change that replaces a group
# (a new VPC, a new description) never fails on a name still in use.
resource "aws_security_group" "alb" {
  name_prefix = "${local.name}-alb-"
  description = "Order web load balancer: 80/443 from the allowed CIDRs, out to the instances' app port."
  vpc_id      = local.vpc_id

  tags = { Name = "${local.name}-alb" }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.vpc_id != null || (var.public_subnet_ids == null && var.private_subnet_ids == null)
      error_message = "public_subnet_ids and private_subnet_ids need vpc_id."
    }
    precondition {
      condition     = var.vpc_id == null || (var.public_subnet_ids != null && var.private_subnet_ids != null)
      error_message = "vpc_id needs public_subnet_ids (the load balancer) and private_subnet_ids (the instances)."
    }
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = { for pair in setproduct(local.load_balancer_listeners, var.allowed_cidrs) : "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] } }

  security_group_id = aws_security_group.alb.id
  description       = "HTTP${each.value.port == 443 ? "S" : ""} from an allowed network"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

# The load balancer's only way out: requests and health checks to the instances' app port.
resource "aws_vpc_security_group_egress_rule" "alb_to_instances" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the web tier's app port"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.instance.id
}

resource "aws_security_group" "instance" {
  name_prefix = "${local.name}-instance-"
  description = "Order web instances: the app port from the load balancer only; no SSH (use Session Manager)."
  vpc_id      = local.vpc_id

  tags = { Name = "${local.name}-instance" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "instance_from_alb" {
  security_group_id            = aws_security_group.instance.id
  description                  = "App port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id
}

# HTTPS out only: the orders API and AWS services through the NAT (gateways or instance) or the
# endpoints, the package repositories and the artifact through the S3 endpoint. DNS and time use the
# VPC's link-local services, which security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "instance_https" {
  security_group_id = aws_security_group.instance.id
  description       = "HTTPS to AWS APIs, the order API and package repositories"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
