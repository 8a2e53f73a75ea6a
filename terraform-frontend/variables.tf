variable "aws_region" {
  description = "AWS region to deploy the web tier into; the same as the backend's."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix for every resource name, so two stacks can share an account (for example \"dev-\"). Empty for none."
  type        = string
  default     = ""

  validation {
    # 17: the buckets' bucket_prefix ("<prefix>order-web-artifacts-") may be 37 characters, S3's 63
    # less the 26 Terraform adds. The CloudFormation template allows the same.
    condition     = can(regex("^[a-z0-9-]{0,17}$", var.name_prefix))
    error_message = "name_prefix must be at most 17 characters of lower-case letters, digits and hyphens (the buckets' names are made from it)."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over Project and ManagedBy."
  type        = map(string)
  default     = {}
}

# --- What the web tier talks to (the backend's outputs) ---

variable "api_base_url" {
  description = "Base URL of the order API: the backend's api_base_url output. The web tier's API_BASE_URL."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/\\s]+", var.api_base_url))
    error_message = "api_base_url must be an http(s) URL."
  }
}

variable "api_key_parameter_name" {
  description = "Name of the SSM SecureString parameter holding the API key: the backend's api_key_parameter_name output. Instances may read this parameter only."
  type        = string

  validation {
    condition     = length(var.api_key_parameter_name) <= 2048 && can(regex("^[A-Za-z0-9_.\\-/]+$", var.api_key_parameter_name))
    error_message = "api_key_parameter_name must be an SSM parameter name (letters, digits, _ . - /)."
  }
}

# The customers' sign-in: not secrets (the app client has no secret), so they travel like the URL.
variable "cognito_user_pool_id" {
  description = "ID of the customers' Cognito user pool: the backend's user_pool_id output. The web tier's COGNITO_USER_POOL_ID."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]_[0-9A-Za-z]+$", var.cognito_user_pool_id))
    error_message = "cognito_user_pool_id must be a user pool id such as us-east-1_AbCdEf123."
  }
}

variable "cognito_client_id" {
  description = "ID of the web tier's app client of the user pool: the backend's user_pool_client_id output. The web tier's COGNITO_CLIENT_ID."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z]{1,128}$", var.cognito_client_id))
    error_message = "cognito_client_id must be an app client id (letters and digits)."
  }
}

variable "cognito_issuer" {
  description = "Issuer of the user pool's tokens, https://cognito-idp.<region>.amazonaws.com/<pool id>: the backend's user_pool_issuer output. The web tier's COGNITO_ISSUER; it verifies tokens against <issuer>/.well-known/jwks.json."
  type        = string

  validation {
    condition     = can(regex("^https://cognito-idp\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z]{2}(-[a-z]+)+-[0-9]_[0-9A-Za-z]+$", var.cognito_issuer))
    error_message = "cognito_issuer must be a user pool's issuer URL, https://cognito-idp.<region>.amazonaws.com/<pool id>."
  }
}

variable "ops_alarms_topic_arn" {
  description = "SNS topic the web tier's alarms notify: the backend's ops_alarms_topic_arn output."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.ops_alarms_topic_arn))
    error_message = "ops_alarms_topic_arn must be an SNS topic ARN."
  }
}

variable "order_events_topic_arn" {
  description = "ARN of the backend's order-events SNS topic: the backend's order_events_topic_arn output. The web tier's ORDER_EVENTS_TOPIC_ARN: each web process subscribes a queue of its own to it (named event_queue_prefix and 16 hex digits) to push order status to the pages."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.order_events_topic_arn))
    error_message = "order_events_topic_arn must be an SNS topic ARN (the backend's order_events_topic_arn output), such as arn:aws:sns:us-east-1:111122223333:order-events."
  }
}

# --- The application ---

variable "web_artifact_path" {
  description = "Path of the web tier's build, dist/web/order-web.tar.gz from npm run build. Terraform uploads it; a new artifact rolls the instances."
  type        = string

  validation {
    condition     = fileexists(var.web_artifact_path)
    error_message = "web_artifact_path must name an existing file; run npm run build first."
  }
}

variable "app_port" {
  description = "Port the web tier listens on inside the instance; the target group's port."
  type        = number
  default     = 3000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be from 1024 to 65535 (the app runs as a non-root user)."
  }
}

variable "health_check_path" {
  description = "Path the load balancer checks; the app answers 200, or 503 while draining."
  type        = string
  default     = "/healthz"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

# --- Instances ---

variable "instance_type" {
  description = "EC2 instance type of the web tier; must match the image's architecture (arm64 by default)."
  type        = string
  default     = "t4g.small"
}

variable "image_id" {
  description = "AMI of the web tier, or an SSM parameter to resolve at launch. Default: the latest Amazon Linux 2023 for arm64."
  type        = string
  default     = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"

  validation {
    condition     = can(regex("^(ami-[0-9a-f]{8,17}|resolve:ssm:.+)$", var.image_id))
    error_message = "image_id must be an AMI id (ami-...) or resolve:ssm:<parameter>."
  }
}

variable "root_volume_size_gb" {
  description = "Size of each instance's encrypted gp3 root volume, in GiB."
  type        = number
  default     = 10

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 1024
    error_message = "root_volume_size_gb must be from 8 (the AL2023 image) to 1024."
  }
}

variable "capacity" {
  description = "Instances in the Auto Scaling group: min <= desired <= max, min at least 1. desired applies at creation; later, target tracking owns it."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = {
    min     = 2
    desired = 2
    max     = 4
  }

  validation {
    condition     = var.capacity.min >= 1 && var.capacity.min <= var.capacity.desired && var.capacity.desired <= var.capacity.max
    error_message = "capacity must satisfy 1 <= min <= desired <= max."
  }
}

variable "detailed_monitoring" {
  description = "One-minute (detailed) CloudWatch metrics for the instances (the web tier's, and the NAT instance's with nat_instance): 7 metrics an instance at the custom metric price. false keeps EC2's free five-minute metrics; target tracking then sees CPU five minutes late, and Control Tower's ec2_launch_template_monitoring_enabled_check fails."
  type        = bool
  default     = true
  nullable    = false
}

variable "cpu_target_percent" {
  description = "Average CPU the Auto Scaling group's target tracking policy aims for."
  type        = number
  default     = 50

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be from 10 to 90."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after launch before failed health checks replace an instance (Node install and start)."
  type        = number
  default     = 300

  validation {
    condition     = var.health_check_grace_period_seconds >= 0
    error_message = "health_check_grace_period_seconds must not be negative."
  }
}

variable "instance_refresh_min_healthy_percentage" {
  description = "Share of capacity kept healthy while an instance refresh replaces instances after a launch template change."
  type        = number
  default     = 100

  validation {
    condition     = var.instance_refresh_min_healthy_percentage >= 0 && var.instance_refresh_min_healthy_percentage <= 100
    error_message = "instance_refresh_min_healthy_percentage must be from 0 to 100."
  }
}

# --- Load balancer ---

variable "certificate_arn" {
  description = "ACM certificate (in this region) for HTTPS on the load balancer; HTTP then redirects to HTTPS. Required unless allow_insecure_http = true."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", coalesce(var.certificate_arn, "-")))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "allow_insecure_http" {
  description = "Serve the site over plain HTTP when no certificate_arn is given: for a trial only, since passwords and session cookies then cross the network in clear text. The output insecure_http_warning says so."
  type        = bool
  default     = false
  nullable    = false
}

variable "allowed_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer on 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.allowed_cidrs) > 0 && alltrue([for cidr in var.allowed_cidrs : can(cidrnetmask(cidr))])
    error_message = "allowed_cidrs must hold at least one IPv4 CIDR block such as 203.0.113.0/24."
  }
}

variable "deregistration_delay_seconds" {
  description = "Seconds the load balancer drains a leaving instance; longer than the app's 10 s shutdown timeout."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be from 0 to 3600."
  }
}

# --- Protection and observation ---

variable "waf_enabled" {
  description = "Whether an AWS WAF web ACL (AWS managed common rule set and a rate limit per IP) protects the load balancer."
  type        = bool
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one client IP may make in any 5 minutes before WAF blocks it (browsers behind one office NAT share an IP)."
  type        = number
  default     = 2000

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100 && var.waf_rate_limit_per_5_minutes <= 2000000000 && floor(var.waf_rate_limit_per_5_minutes) == var.waf_rate_limit_per_5_minutes
    error_message = "waf_rate_limit_per_5_minutes must be a whole number from 100 to 2000000000."
  }
}

variable "log_retention_days" {
  description = "Days the load balancer's access logs are kept in their bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3653 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "log_retention_days must be a whole number of days from 1 to 3653."
  }
}

variable "cloudwatch_log_retention_days" {
  description = "Days the web tier's CloudWatch log groups keep events: the instances' logs (the app's JSON lines and pm2's) and, with waf_enabled, WAF's."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_retention_days)
    error_message = "cloudwatch_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "access_log_bucket_force_destroy" {
  description = "Whether destroy empties the access log bucket first. Keep false in production."
  type        = bool
  default     = false
}

variable "alarm_period_seconds" {
  description = "Period of the web tier's alarms, in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive breaching periods before a web tier alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && floor(var.alarm_evaluation_periods) == var.alarm_evaluation_periods
    error_message = "alarm_evaluation_periods must be a whole number of at least 1."
  }
}

variable "alb_5xx_alarm_threshold" {
  description = "5xx responses (the load balancer's and the instances') in one period at which the 5xx alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = var.alb_5xx_alarm_threshold >= 1
    error_message = "alb_5xx_alarm_threshold must be at least 1."
  }
}

variable "unhealthy_host_alarm_threshold" {
  description = "Unhealthy instances in the target group at which the unhealthy hosts alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.unhealthy_host_alarm_threshold >= 1
    error_message = "unhealthy_host_alarm_threshold must be at least 1."
  }
}

# --- Network ---

variable "vpc_id" {
  description = "Existing VPC to deploy into, with public_subnet_ids and private_subnet_ids. Null creates a VPC with public and private subnets in availability_zone_count zones, NAT gateways and an S3 endpoint."
  type        = string
  default     = null
}

variable "public_subnet_ids" {
  description = "Existing public subnets (routed to an internet gateway, at least two zones) for the load balancer. Used only with vpc_id."
  type        = list(string)
  default     = null

  validation {
    condition     = var.public_subnet_ids == null || length(coalesce(var.public_subnet_ids, [])) >= 2
    error_message = "public_subnet_ids must hold at least two subnets, in different zones."
  }
}

variable "private_subnet_ids" {
  description = "Existing private subnets (with a way out to the orders API, S3 and SSM, at least two zones) for the instances. Used only with vpc_id."
  type        = list(string)
  default     = null

  validation {
    condition     = var.private_subnet_ids == null || length(coalesce(var.private_subnet_ids, [])) >= 2
    error_message = "private_subnet_ids must hold at least two subnets, in different zones."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC this module creates when vpc_id is null: public subnets from its first /20s, private ones from its ninth."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be an IPv4 CIDR block of /24 or larger."
  }
}

variable "availability_zone_count" {
  description = "Zones of the created VPC, taken from the zones the account has in the region (data.aws_availability_zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 8 && floor(var.availability_zone_count) == var.availability_zone_count
    error_message = "availability_zone_count must be a whole number from 2 to 8."
  }
}

variable "nat_gateway_per_zone" {
  description = "One NAT gateway in each zone (a zone's outage leaves the others their way out), or false for one in the first zone (cheaper; the instances of every zone then depend on it). Ignored with nat_instance = true."
  type        = bool
  default     = true
}

variable "nat_instance" {
  description = "One NAT instance (nat_instance_type, Amazon Linux 2023) in the first zone's public subnet instead of NAT gateways: no NAT gateway, no NAT Elastic IP. Cheaper, but every zone's way out then depends on one instance in one zone, patched by replacing it. Wins over nat_gateway_per_zone. Only for the VPC this module creates."
  type        = bool
  default     = false
  nullable    = false
}

variable "nat_instance_type" {
  description = "EC2 instance type of the NAT instance (nat_instance = true); a Graviton (arm64) type, as its image is Amazon Linux 2023 for arm64."
  type        = string
  default     = "t4g.nano"

  validation {
    condition     = can(regex("^[a-z]+[0-9]+g[a-z0-9-]*\\.[a-z0-9]+$", var.nat_instance_type))
    error_message = "nat_instance_type must be a Graviton (arm64) instance type such as t4g.nano or t4g.micro."
  }
}

variable "vpc_interface_endpoints" {
  description = "Interface endpoints for SSM, Session Manager (ssmmessages, ec2messages), CloudWatch (logs, monitoring), SQS and SNS (the order event queues), so that only calls to the orders API and Cognito cross the NAT. Each costs per zone and hour."
  type        = bool
  default     = false
}

variable "artifact_bucket_force_destroy" {
  description = "Whether destroy empties the artifact bucket (every version) first. Keep false in production."
  type        = bool
  default     = false
}
