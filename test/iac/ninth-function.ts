// The ninth function both IaC flavours are shown to deploy from one more entry in the function list
// (test/iac/ninth-function.test.ts for Terraform, cloudformation-declared-once.test.ts for CloudFormation).
import { functions, type FunctionSpec } from '../../platform/functions.js';

export const NINTH = 'refund-order';
export const NINTH_ROUTE = 'POST /me/orders/{id}/refund';

/** A customer's refund, behind the authorizer, granted two actions on the orders table. */
export const refundOrder: FunctionSpec = {
  description: "POST /me/orders/{id}/refund: refunds the signed-in customer's order.",
  entry: 'backend-lambdas/refund-order/handler.ts',
  wiring: 'backend-lambdas/refund-order/refund-order.ts',
  memoryMb: 512,
  timeoutSeconds: 15,
  environment: { TABLE_NAME: 'orders-table-name' },
  permissions: [{ sid: 'RefundOrders', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], on: 'orders-table', why: 'Reads the order and marks it refunded.' }],
  trigger: { type: 'api', routes: [NINTH_ROUTE], authorizer: 'cognito' },
};

/** Today's list with the ninth entry added: a scratch copy, no file of the project edited. */
export const withNinthFunction: Readonly<Record<string, FunctionSpec>> = { ...functions, [NINTH]: refundOrder };
