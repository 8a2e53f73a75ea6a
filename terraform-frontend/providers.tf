provider "aws" {
  region = var.aws_region

  # Only the moto rehearsal sets endpoints; S3 there is reached by path, not by virtual host.
  s3_use_path_style       = var.endpoints != null
  skip_metadata_api_check = var.endpoints != null

  dynamic "endpoints" {
    for_each = var.endpoints == null ? [] : [var.endpoints]

    content {
      autoscaling = lookup(endpoints.value, "autoscaling", null)
      ec2         = lookup(endpoints.value, "ec2", null)
      elbv2       = lookup(endpoints.value, "elbv2", null)
      iam         = lookup(endpoints.value, "iam", null)
      s3          = lookup(endpoints.value, "s3", null)
      ssm         = lookup(endpoints.value, "ssm", null)
      sts         = lookup(endpoints.value, "sts", null)
    }
  }

  default_tags {
    tags = merge({ Project = "order-pipeline", ManagedBy = "terraform" }, var.tags)
  }
}
