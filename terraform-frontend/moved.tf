# Earlier addresses of resources that moved, so that an existing deployment's state follows them
# rather than destroying and creating them again.

# The web ACL and its log, from this module's own blocks into terraform-modules/waf-acl.
moved {
  from = aws_wafv2_web_acl.web[0]
  to   = module.web_waf[0].aws_wafv2_web_acl.this
}

moved {
  from = aws_wafv2_web_acl_association.web[0]
  to   = module.web_waf[0].aws_wafv2_web_acl_association.this
}

moved {
  from = aws_cloudwatch_log_group.waf[0]
  to   = module.web_waf[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_wafv2_web_acl_logging_configuration.web[0]
  to   = module.web_waf[0].aws_wafv2_web_acl_logging_configuration.this
}
