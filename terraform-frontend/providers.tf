provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Project = "order-pipeline", ManagedBy = "terraform" }, var.tags)
  }
}
