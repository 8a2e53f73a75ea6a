import { AppError, HTTP_STATUS_BY_CODE } from '../../domain/errors.js';
import {
  applyChange,
  dueAt,
  IllegalTransitionError,
  isFinal,
  lifecycleTimingsJson,
  ORDER_STATUSES,
  received,
  transition,
  type OrderStatus,
} from '../../domain/lifecycle.js';
import * as z from 'zod/mini';

const timings = { RECEIVED: 60, PREPARING: 600, READY: 300 };
const at = new Date('2026-12-01T10:00:00.000Z');

describe('the order lifecycle', () => {
  it('when an order is stored, then it is RECEIVED at that time, version 1, due after its RECEIVED time', () => {
    expect(received(at.toISOString(), timings)).toEqual({
      status: 'RECEIVED',
      status_history: [{ status: 'RECEIVED', at: at.toISOString() }],
      version: 1,
      due_at: '2026-12-01T10:01:00.000Z',
    });
  });

  it('when no target is given, then each status moves to the next one, due after its own time, and the last is final', () => {
    const path: OrderStatus[] = [];
    let order = received(at.toISOString(), timings);
    for (let step = 0; step < 3; step++) {
      const change = transition(order, { at, timings });
      expect(change).toMatchObject({ from: order.status, fromVersion: order.version, version: order.version + 1, at: at.toISOString() });
      order = applyChange(order, change);
      path.push(order.status);
    }
    expect(path).toEqual(['PREPARING', 'READY', 'COMPLETED']);
    expect(order.due_at).toBeUndefined();
    expect(order.status_history.map((entry) => entry.status)).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
    expect(() => transition(order, { at, timings })).toThrow('An order that is COMPLETED is final and cannot move on');
  });

  it('when the timings change, then the due times follow them (the function takes them as input)', () => {
    expect(dueAt('PREPARING', at.toISOString(), timings)).toBe('2026-12-01T10:10:00.000Z');
    expect(dueAt('PREPARING', at.toISOString(), { ...timings, PREPARING: 5 })).toBe('2026-12-01T10:00:05.000Z');
    expect(dueAt('COMPLETED', at.toISOString(), timings)).toBeUndefined();
  });

  it.each([
    ['RECEIVED', 'CANCELLED', true],
    ['RECEIVED', 'PREPARING', true],
    ['RECEIVED', 'READY', false],
    ['RECEIVED', 'COMPLETED', false],
    ['PREPARING', 'CANCELLED', false],
    ['PREPARING', 'RECEIVED', false],
    ['READY', 'CANCELLED', false],
    ['READY', 'COMPLETED', true],
    ['COMPLETED', 'CANCELLED', false],
    ['CANCELLED', 'RECEIVED', false],
    ['PREPARING', 'PREPARING', false],
  ] as [OrderStatus, OrderStatus, boolean][])('when an order that is %s is moved to %s, then allowed is %s', (from, to, allowed) => {
    const move = () => transition({ status: from, version: 3 }, { to, at, timings });
    if (allowed) {
      expect(move()).toMatchObject({ from, to, fromVersion: 3, version: 4 });
    } else {
      expect(move).toThrow(IllegalTransitionError);
      expect(move).toThrow(`An order that is ${from} cannot become ${to}`);
    }
  });

  it('when a transition is illegal, then its error is an AppError answered as 409 Conflict', () => {
    try {
      transition({ status: 'COMPLETED', version: 4 }, { to: 'CANCELLED', at, timings });
      throw new Error('no error');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(HTTP_STATUS_BY_CODE[(error as AppError).code]).toBe(409);
      expect((error as AppError).message).toBe('An order that is COMPLETED cannot become CANCELLED; it is final');
    }
  });

  it('when a change was computed from an older version, then applying it is refused (the write is conditional on the version)', () => {
    const order = received(at.toISOString(), timings);
    const change = transition(order, { at, timings });
    const moved = applyChange(order, change);
    expect(() => applyChange(moved, change)).toThrow(IllegalTransitionError);
  });

  it('when only COMPLETED and CANCELLED are final, then every other status has a time', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['COMPLETED', 'CANCELLED']);
    for (const status of ORDER_STATUSES.filter((candidate) => !isFinal(candidate))) expect(dueAt(status, at.toISOString(), timings)).toBeDefined();
  });

  it.each([
    ['{"RECEIVED":1,"PREPARING":2,"READY":3}', true],
    ['{"RECEIVED":1,"PREPARING":2}', false],
    ['{"RECEIVED":1,"PREPARING":2,"READY":-1}', false],
    ['{"RECEIVED":1,"PREPARING":2,"READY":1.5}', false],
    ['{"RECEIVED":1,"PREPARING":2,"READY":3,"EXTRA":1}', false],
    ['not json', false],
  ])('when the timings are configured as %s, then they are accepted: %s', (text, ok) => {
    expect(z.safeParse(lifecycleTimingsJson, text).success).toBe(ok);
  });
});
