provider "aws" {
  region = var.aws_region

  # Only the moto rehearsal sets endpoints; S3 there is reached by path, not by virtual host.
  s3_use_path_style       = var.endpoints != null
  skip_metadata_api_check = var.endpoints != null

  dynamic "endpoints" {
    for_each = var.endpoints == null ? [] : [var.endpoints]

    content {
      apigateway = lookup(endpoints.value, "apigateway", null)
      cloudwatch = lookup(endpoints.value, "cloudwatch", null)
      dynamodb   = lookup(endpoints.value, "dynamodb", null)
      events     = lookup(endpoints.value, "events", null)
      iam        = lookup(endpoints.value, "iam", null)
      kms        = lookup(endpoints.value, "kms", null)
      lambda     = lookup(endpoints.value, "lambda", null)
      logs       = lookup(endpoints.value, "logs", null)
      sns        = lookup(endpoints.value, "sns", null)
      sqs        = lookup(endpoints.value, "sqs", null)
      ssm        = lookup(endpoints.value, "ssm", null)
      sts        = lookup(endpoints.value, "sts", null)
    }
  }

  default_tags {
    tags = merge({ Project = "order-pipeline", ManagedBy = "terraform" }, var.tags)
  }
}
