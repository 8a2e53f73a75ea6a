# The shop's menu: one product an item, read whole (a Scan of a few dozen items) by submit-order, cart
# and checkout, and written by the staff through POST /staff/menu (staff-orders), each product with
# its history. No IaC seeds it: while it is empty the functions read the seed menu, and the staff
# function fills it with the seed menu on the first change (docs/data-model.md). The key is the product
# store's (backend-lambdas/lib/product-store.ts, `productTable`); the parity test compares it with the
# local stack's.
resource "aws_dynamodb_table" "products" {
  name                        = "${var.name_prefix}${var.products_table_name}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "product_id"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "product_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  # The same as the orders table: the AWS-managed aws/dynamodb key, nothing for the roles to be granted.
  server_side_encryption {
    enabled = true
  }

  # The menu and its history of staff changes, kept like the orders table: no plan destroys it until
  # this is removed on purpose.
  lifecycle {
    prevent_destroy = true
  }
}
