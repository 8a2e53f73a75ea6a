resource "aws_lb" "web" {
  depends_on = [aws_s3_bucket_policy.access_logs]

  name                       = local.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = local.public_subnet_ids
  drop_invalid_header_fields = true

  access_logs {
    bucket  = aws_s3_bucket.access_logs.id
    prefix  = local.access_log_prefix
    enabled = true
  }
}

# Named by prefix (at most 6 characters) and created before the old one is destroyed: a new app_port
# replaces the target group while the listener still forwards to the old one.
resource "aws_lb_target_group" "web" {
  name_prefix          = local.target_group_name_prefix
  port                 = var.app_port
  protocol             = "HTTP"
  vpc_id               = local.vpc_id
  target_type          = "instance"
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = local.name }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  # With a certificate, plain HTTP only redirects; without one, it serves the site.
  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.web.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []

      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }

  # Plain HTTP only when asked for by a name that says it is insecure: a forgotten certificate_arn
  # fails the plan instead of putting customers' passwords and session cookies on the wire.
  lifecycle {
    precondition {
      condition     = local.https || var.allow_insecure_http
      error_message = "certificate_arn is not set: give an ACM certificate for the site's domain (docs/deploy-terraform.md says how to get one), or set allow_insecure_http = true to serve plain HTTP, where passwords and session cookies cross the network in clear text."
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}
