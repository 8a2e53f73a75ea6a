import { declarationSchema, functions } from '../../platform/functions.js';

const entry = (routes: string[], sids = ['ReadOrders']) => ({
  ...functions['get-order'],
  permissions: sids.map((sid) => ({ sid, actions: ['dynamodb:GetItem'], on: 'orders-table', why: 'Reads an order.' })),
  trigger: { type: 'api', routes },
});

describe('the function list', () => {
  it('when platform/functions.json is read, then every entry is valid and each route is served once', () => {
    expect(declarationSchema.safeParse(functions).success).toBe(true);
  });

  it('when two functions serve one route, then the list is refused naming the route and both functions', () => {
    const result = declarationSchema.safeParse({ 'get-order': entry(['GET /orders/{id}']), 'refund-order': entry(['GET /orders/{id}']) });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['refund-order.trigger.routes: GET /orders/{id} is served by get-order already']);
  });

  it('when one policy gives a Sid twice, then the list is refused naming it', () => {
    const result = declarationSchema.safeParse({ 'get-order': entry(['GET /orders/{id}'], ['ReadOrders', 'ReadOrders']) });
    expect(result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['get-order.permissions: Sid ReadOrders is given twice']);
  });

  it('when a route is not "METHOD /path" or a grant names no known resource, then the list is refused saying where', () => {
    const result = declarationSchema.safeParse({ 'get-order': { ...entry(['GET orders']), permissions: [{ sid: 'X', actions: ['dynamodb:GetItem'], on: 'every-table', why: 'No.' }] } });
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['get-order.permissions.0.on', 'get-order.trigger.routes.0']);
  });
});
