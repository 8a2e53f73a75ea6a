resource "aws_launch_template" "web" {
  name                   = local.name
  description            = "Order web tier on Amazon Linux 2023"
  image_id               = var.image_id
  instance_type          = var.instance_type
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.web.arn
  }

  # Detailed (one-minute) CloudWatch metrics unless detailed_monitoring = false (the small-shop setting).
  monitoring {
    enabled = var.detailed_monitoring
  }

  # IMDSv2 only; one hop, so nothing but the instance itself reaches the metadata service.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      encrypted             = true
      delete_on_termination = true
    }
  }

  # Private subnets, no public address: the instances are reached through the load balancer only, and
  # reach out through the NAT gateways (or the NAT instance) and the VPC endpoints.
  network_interfaces {
    associate_public_ip_address = false
    security_groups             = [aws_security_group.instance.id]
    delete_on_termination       = true
  }

  user_data = base64encode(templatefile("${path.module}/user-data.sh.tftpl", {
    region                 = var.aws_region
    bucket                 = aws_s3_bucket.artifacts.id
    object_key             = aws_s3_object.web_artifact.key
    install_dir            = local.app_install_dir
    api_base_url           = var.api_base_url
    api_key_parameter_name = var.api_key_parameter_name
    cognito_user_pool_id   = var.cognito_user_pool_id
    cognito_client_id      = var.cognito_client_id
    cognito_issuer         = var.cognito_issuer
    order_events_topic_arn = var.order_events_topic_arn
    event_queue_prefix     = local.event_queue_prefix
    app_port               = var.app_port
    log_group_name         = aws_cloudwatch_log_group.web.name
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = local.name }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = local.name }
  }

  lifecycle {
    # Tokens of one pool checked against another's issuer would all be refused: every sign-in would fail.
    precondition {
      condition     = endswith(var.cognito_issuer, "/${var.cognito_user_pool_id}")
      error_message = "cognito_issuer must be the issuer of cognito_user_pool_id (the backend's user_pool_issuer and user_pool_id outputs)."
    }
  }
}

resource "aws_autoscaling_group" "web" {
  # The user data needs its way out (packages, the artifact, SSM) before the first instance boots.
  depends_on = [
    aws_iam_role_policy.web,
    aws_iam_role_policy.web_session_manager,
    aws_iam_role_policy.web_events,
    aws_route_table_association.private,
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.interface,
  ]

  name                      = local.name
  vpc_zone_identifier       = local.private_subnet_ids
  min_size                  = var.capacity.min
  desired_capacity          = var.capacity.desired
  max_size                  = var.capacity.max
  health_check_type         = "ELB"
  health_check_grace_period = var.health_check_grace_period_seconds
  target_group_arns         = [aws_lb_target_group.web.arn]

  launch_template {
    id      = aws_launch_template.web.id
    version = aws_launch_template.web.latest_version
  }

  # A new launch template version (a new artifact, image or setting) rolls the instances.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = var.instance_refresh_min_healthy_percentage
      max_healthy_percentage = 200
      instance_warmup        = var.health_check_grace_period_seconds
    }
  }

  tag {
    key                 = "Name"
    value               = local.name
    propagate_at_launch = true
  }

  lifecycle {
    # After creation, the target tracking policy owns the desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${local.name}-cpu"
  autoscaling_group_name = aws_autoscaling_group.web.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.cpu_target_percent

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}
