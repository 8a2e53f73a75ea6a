import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFoundError } from '../../domain/errors.js';
import { customerOf } from '../../backend-lambdas/lib/customer.js';
import { groupsOf, staffOf } from '../../backend-lambdas/lib/staff.js';
import { apiEvent } from '../helpers/events.js';

const withClaims = (claims: Record<string, string>): APIGatewayProxyEvent => {
  const event = apiEvent({ method: 'GET', path: '/staff/orders' });
  return { ...event, requestContext: { ...event.requestContext, authorizer: { claims } } };
};

describe('who is staff', () => {
  it('when the groups claim comes as API Gateway spells it, as the local authorizer does, or as a list, then each group is read', () => {
    expect(groupsOf('staff')).toEqual(['staff']);
    expect(groupsOf('[staff kitchen]')).toEqual(['staff', 'kitchen']);
    expect(groupsOf('staff,kitchen')).toEqual(['staff', 'kitchen']);
    expect(groupsOf('["kitchen","staff"]')).toEqual(['kitchen', 'staff']);
    expect(groupsOf(['staff'])).toEqual(['staff']);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf('[]')).toEqual([]);
  });

  it('when a token is not of the staff group (none, another, or one whose name only contains it), then the request is a 404', () => {
    expect(staffOf(withClaims({ sub: 'abc', email: 'sam@shop.example', 'cognito:groups': '[kitchen staff]' }))).toEqual({ id: 'abc', name: 'sam@shop.example' });
    for (const groups of [undefined, 'kitchen', '[staffers]', 'not-staff']) {
      expect(() => staffOf(withClaims({ sub: 'abc', email: 'sam@shop.example', ...(groups ? { 'cognito:groups': groups } : {}) }))).toThrow(NotFoundError);
    }
  });
});

describe('the name an order keeps', () => {
  it('when the name claim holds control characters, runs of spaces or more than 100 characters, then it is cleaned and cut at a character', () => {
    const nameOf = (name: string) => customerOf(withClaims({ sub: 'abc', name })).name;
    expect(nameOf('  Ada \u0000\u202eLove\tlace\r\n ')).toBe('Ada Lovelace');
    const long = nameOf(`${'x'.repeat(99)}😀😀`);
    expect([...long!]).toHaveLength(100);
    expect(long!.endsWith('😀')).toBe(true);
    expect(nameOf(' \u200b ')).toBeUndefined();
  });
});
