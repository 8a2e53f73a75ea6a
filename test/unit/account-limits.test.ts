import { mailboxOf, retryText } from '../../frontend/account-limits.js';

describe('the account forms\' limits', () => {
  it.each([
    [' Ada@Example.COM ', 'ada@example.com'],
    ['ada+shop@example.com', 'ada@example.com'],
    ['ada+1+2@example.com', 'ada@example.com'],
    ['a.d.a@gmail.com', 'ada@gmail.com'],
    ['A.da+x@googlemail.com', 'ada@gmail.com'],
    ['a.da@example.com', 'a.da@example.com'],
    ['no-at-sign', 'no-at-sign'],
    [undefined, ''],
  ])('when the address %p is limited, then it counts against the mailbox %p', (address, mailbox) => {
    expect(mailboxOf(address)).toBe(mailbox);
  });

  it('when a limit resets, then the page says at what time and in how many minutes', () => {
    const now = Date.parse('2026-12-07T10:00:30Z');
    expect(retryText(new Date('2026-12-07T10:42:00Z'), now)).toBe('Try again after 10:42 UTC (in about 42 minutes).');
    expect(retryText(new Date('2026-12-07T10:00:40Z'), now)).toBe('Try again after 10:01 UTC (in about 1 minute).');
    expect(retryText(undefined, now)).toBe('Try again later.');
  });
});
