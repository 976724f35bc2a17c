import { base, en, Faker } from '@faker-js/faker';
import { describe, expect, it } from 'vitest';
import { renderString, renderValue, type TemplateScope } from './template.js';

function scope(seed = 1): TemplateScope {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(seed);
  return {
    vars: {
      order_id: 'kmc-1',
      amount: 1500,
      app: { url: 'http://127.0.0.1:3000' },
      payment: { order_id: 'ORD-9' },
    },
    faker,
    used: new Set(),
  };
}

describe('templates', () => {
  it('renders variables and keeps the type of a value that is a whole template', () => {
    const s = scope();
    expect(
      renderValue(
        {
          amount: '{{amount}}',
          note: 'order {{order_id}} for {{amount}}',
          url: '{{app.url}}/orders/{{payment.order_id}}',
        },
        s,
      ),
    ).toEqual({
      amount: 1500,
      note: 'order kmc-1 for 1500',
      url: 'http://127.0.0.1:3000/orders/ORD-9',
    });
    expect([...s.used!].sort()).toEqual(['amount', 'app', 'order_id', 'payment']);
  });

  it('gives the same faker data for the same seed, and +7 phone numbers', () => {
    const a = renderValue({ name: '{{faker.person.fullName}}', phone: '{{faker.phone}}' }, scope(42));
    const b = renderValue({ name: '{{faker.person.fullName}}', phone: '{{faker.phone}}' }, scope(42));
    expect(a).toEqual(b);
    expect((a as { phone: string }).phone).toMatch(/^\+77\d{9}$/);
  });

  it('shell-quotes values in commands, so data cannot break out', () => {
    const s = scope();
    s.vars.name = "O'Brien; rm -rf /";
    expect(renderString('echo {{name}}', s, 'shell')).toBe(`echo 'O'\\''Brien; rm -rf /'`);
  });

  it('names what is known when a variable is not', () => {
    expect(() => renderString('{{payment.transaction_hash}}', scope())).toThrow(
      /not known here \(known: amount, app, order_id, payment/,
    );
    expect(() => renderString('{{faker.nope.nothing}}', scope())).toThrow(/faker has no nope.nothing/);
  });
});
