# The web tier's alarms, to the backend's ops-alarms topic, on ALARM and on OK.

# 5xx answered to browsers, by the load balancer (no healthy target, timeouts) or by the app.
resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${local.name}-5xx"
  alarm_description   = "The load balancer answered ${var.alb_5xx_alarm_threshold} or more 5xx (its own and the instances') in ${var.alarm_period_seconds} s. Its access logs (s3://${aws_s3_bucket.access_logs.id}/${local.access_log_prefix}/) show which requests."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alb_5xx_alarm_threshold
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.ops_alarms_topic_arn]
  ok_actions          = [var.ops_alarms_topic_arn]

  metric_query {
    id          = "total"
    expression  = "FILL(elb, 0) + FILL(target, 0)"
    label       = "5xx answered"
    return_data = true
  }

  metric_query {
    id = "elb"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.web.arn_suffix }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }

  metric_query {
    id = "target"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.web.arn_suffix }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }
}

# An instance the load balancer has stopped sending to; Auto Scaling replaces it after the grace period.
resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${local.name}-unhealthy-hosts"
  alarm_description   = "${var.unhealthy_host_alarm_threshold} or more web instances failed ${var.health_check_path} in ${var.alarm_period_seconds} s."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.web.arn_suffix, TargetGroup = aws_lb_target_group.web.arn_suffix }
  statistic           = "Maximum"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.unhealthy_host_alarm_threshold
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.ops_alarms_topic_arn]
  ok_actions          = [var.ops_alarms_topic_arn]
}

# No instance left to serve: every request is a 503 from the load balancer. One unhealthy instance is
# the alarm above; this is the outage itself, so the threshold is the least there is (below 1), and a
# period without the metric (the group emptied, the target group replaced) counts as breaching.
resource "aws_cloudwatch_metric_alarm" "no_healthy_hosts" {
  alarm_name          = "${local.name}-no-healthy-hosts"
  alarm_description   = "No web instance passed ${var.health_check_path} in ${var.alarm_period_seconds} s: the load balancer answers every request 503. Threshold below 1 because any healthy instance serves the site; the unhealthy hosts alarm and the group's activity say why."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.web.arn_suffix, TargetGroup = aws_lb_target_group.web.arn_suffix }
  statistic           = "Minimum"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  treat_missing_data  = "breaching"
  alarm_actions       = [var.ops_alarms_topic_arn]
  ok_actions          = [var.ops_alarms_topic_arn]
}
