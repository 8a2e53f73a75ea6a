# Where the routes were before they were made from platform/functions.json: an existing deployment
# keeps its resources, methods and integrations. The invoke permissions move too: those whose
# statement id is unchanged (POST /orders, GET /orders) stay as they are, and the renamed ones are
# replaced, the new statement added before the old one goes (create_before_destroy). Without their moved blocks the old permissions would be
# orphans destroyed in no order with the new ones created, and adding AllowApiGatewayPostOrders or
# AllowApiGatewayGetOrders while the old statement is still there fails (ResourceConflictException).

moved {
  from = aws_api_gateway_resource.orders
  to   = aws_api_gateway_resource.depth1["orders"]
}

moved {
  from = aws_api_gateway_resource.order
  to   = aws_api_gateway_resource.depth2["orders/{id}"]
}

moved {
  from = aws_api_gateway_resource.me
  to   = aws_api_gateway_resource.depth1["me"]
}

moved {
  from = aws_api_gateway_resource.me_cart
  to   = aws_api_gateway_resource.depth2["me/cart"]
}

moved {
  from = aws_api_gateway_resource.me_cart_lines
  to   = aws_api_gateway_resource.depth3["me/cart/lines"]
}

moved {
  from = aws_api_gateway_resource.me_cart_line
  to   = aws_api_gateway_resource.depth4["me/cart/lines/{product_id}"]
}

moved {
  from = aws_api_gateway_resource.me_orders
  to   = aws_api_gateway_resource.depth2["me/orders"]
}

moved {
  from = aws_api_gateway_resource.me_order
  to   = aws_api_gateway_resource.depth3["me/orders/{id}"]
}

moved {
  from = aws_api_gateway_method.post_orders
  to   = aws_api_gateway_method.route["POST /orders"]
}

moved {
  from = aws_api_gateway_method.get_order
  to   = aws_api_gateway_method.route["GET /orders/{id}"]
}

moved {
  from = aws_api_gateway_method.get_orders
  to   = aws_api_gateway_method.route["GET /orders"]
}

moved {
  from = aws_api_gateway_method.get_cart
  to   = aws_api_gateway_method.route["GET /me/cart"]
}

moved {
  from = aws_api_gateway_method.put_cart_line
  to   = aws_api_gateway_method.route["PUT /me/cart/lines/{product_id}"]
}

moved {
  from = aws_api_gateway_method.delete_cart_line
  to   = aws_api_gateway_method.route["DELETE /me/cart/lines/{product_id}"]
}

moved {
  from = aws_api_gateway_method.post_my_orders
  to   = aws_api_gateway_method.route["POST /me/orders"]
}

moved {
  from = aws_api_gateway_method.get_my_orders
  to   = aws_api_gateway_method.route["GET /me/orders"]
}

moved {
  from = aws_api_gateway_method.get_my_order
  to   = aws_api_gateway_method.route["GET /me/orders/{id}"]
}

moved {
  from = aws_api_gateway_integration.post_orders
  to   = aws_api_gateway_integration.route["POST /orders"]
}

moved {
  from = aws_api_gateway_integration.get_order
  to   = aws_api_gateway_integration.route["GET /orders/{id}"]
}

moved {
  from = aws_api_gateway_integration.get_orders
  to   = aws_api_gateway_integration.route["GET /orders"]
}

moved {
  from = aws_api_gateway_integration.get_cart
  to   = aws_api_gateway_integration.route["GET /me/cart"]
}

moved {
  from = aws_api_gateway_integration.put_cart_line
  to   = aws_api_gateway_integration.route["PUT /me/cart/lines/{product_id}"]
}

moved {
  from = aws_api_gateway_integration.delete_cart_line
  to   = aws_api_gateway_integration.route["DELETE /me/cart/lines/{product_id}"]
}

moved {
  from = aws_api_gateway_integration.post_my_orders
  to   = aws_api_gateway_integration.route["POST /me/orders"]
}

moved {
  from = aws_api_gateway_integration.get_my_orders
  to   = aws_api_gateway_integration.route["GET /me/orders"]
}

moved {
  from = aws_api_gateway_integration.get_my_order
  to   = aws_api_gateway_integration.route["GET /me/orders/{id}"]
}

moved {
  from = aws_lambda_permission.api_submit_order
  to   = aws_lambda_permission.api["POST /orders"]
}

moved {
  from = aws_lambda_permission.api_get_order
  to   = aws_lambda_permission.api["GET /orders/{id}"]
}

moved {
  from = aws_lambda_permission.api_get_orders
  to   = aws_lambda_permission.api["GET /orders"]
}

moved {
  from = aws_lambda_permission.api_cart["AllowApiGatewayGetCart"]
  to   = aws_lambda_permission.api["GET /me/cart"]
}

moved {
  from = aws_lambda_permission.api_cart["AllowApiGatewayPutCartLine"]
  to   = aws_lambda_permission.api["PUT /me/cart/lines/{product_id}"]
}

moved {
  from = aws_lambda_permission.api_cart["AllowApiGatewayDeleteCartLine"]
  to   = aws_lambda_permission.api["DELETE /me/cart/lines/{product_id}"]
}

moved {
  from = aws_lambda_permission.api_checkout
  to   = aws_lambda_permission.api["POST /me/orders"]
}

moved {
  from = aws_lambda_permission.api_my_orders["AllowApiGatewayGetMyOrders"]
  to   = aws_lambda_permission.api["GET /me/orders"]
}

moved {
  from = aws_lambda_permission.api_my_orders["AllowApiGatewayGetMyOrder"]
  to   = aws_lambda_permission.api["GET /me/orders/{id}"]
}

# Each function's grants, one policy named "grants" since they are declared in the list.

moved {
  from = aws_iam_role_policy.submit_order
  to   = aws_iam_role_policy.grants["submit-order"]
}

moved {
  from = aws_iam_role_policy.process_order
  to   = aws_iam_role_policy.grants["process-order"]
}

moved {
  from = aws_iam_role_policy.get_order
  to   = aws_iam_role_policy.grants["get-order"]
}

moved {
  from = aws_iam_role_policy.advance_orders
  to   = aws_iam_role_policy.grants["advance-orders"]
}

moved {
  from = aws_iam_role_policy.cart
  to   = aws_iam_role_policy.grants["cart"]
}

moved {
  from = aws_iam_role_policy.checkout
  to   = aws_iam_role_policy.grants["checkout"]
}

moved {
  from = aws_iam_role_policy.my_orders
  to   = aws_iam_role_policy.grants["my-orders"]
}

moved {
  from = aws_iam_role_policy.notify_customer
  to   = aws_iam_role_policy.grants["notify-customer"]
}

# The web ACL and its log, from this module's own blocks into terraform-modules/waf-acl.
moved {
  from = aws_wafv2_web_acl.api[0]
  to   = module.api_waf[0].aws_wafv2_web_acl.this
}

moved {
  from = aws_wafv2_web_acl_association.api[0]
  to   = module.api_waf[0].aws_wafv2_web_acl_association.this
}

moved {
  from = aws_cloudwatch_log_group.waf[0]
  to   = module.api_waf[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_wafv2_web_acl_logging_configuration.api[0]
  to   = module.api_waf[0].aws_wafv2_web_acl_logging_configuration.this
}
