# One cart a customer, written whole by the cart store (backend-lambdas/lib/cart-store.ts, `cartTable`),
# whose key and TTL attribute these are; the parity test compares them with the local stack's.
resource "aws_dynamodb_table" "carts" {
  name                        = "${var.name_prefix}${var.carts_table_name}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "customer_id"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "customer_id"
    type = "S"
  }

  # Every change moves expires_at (epoch seconds) cart_ttl_seconds ahead; DynamoDB deletes the cart
  # some time after it passes, so the functions also treat a cart past it as empty.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # The same as the orders table: the AWS-managed aws/dynamodb key, nothing for the roles to be granted.
  server_side_encryption {
    enabled = true
  }

  # Customers' carts, kept like the orders table: no plan destroys them until this is removed on purpose.
  lifecycle {
    prevent_destroy = true
  }
}
