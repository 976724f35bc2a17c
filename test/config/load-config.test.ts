import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_PORT,
  defaultCryptoWorkers,
  loadConfig,
} from '../../mock-server/config/load-config.js';
import { buildTestApp } from '../helpers/sandbox.js';
import { usableCpus } from '../../mock-server/shared/usable-cpus.js';

const dir = mkdtempSync(join(tmpdir(), 'ktpay-config-'));
function file(name: string, text: string) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('has zero-config defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.port).toBe(DEFAULT_PORT);
    expect(c.host).toBe('127.0.0.1');
    expect(c.public_url).toBeUndefined();
    expect(c.store).toBe('memory');
    expect(c.body_limit).toBe(65536);
    expect(c.default_merchant.domains).toEqual(['localhost', '127.0.0.1', 'shop.example.kz']);
    expect(c.callbacks.schedule_ms).toEqual([15000, 60000, 180000, 600000, 1800000, 3600000]);
  });

  it('crypto_workers: one worker when 2 or more CPUs are usable, else none; CRYPTO_WORKERS, the file and 0 override it', () => {
    expect(defaultCryptoWorkers()).toBe(usableCpus() >= 2 ? 1 : 0);
    expect(defaultCryptoWorkers(1)).toBe(0);
    expect(defaultCryptoWorkers(2)).toBe(1);
    expect(loadConfig({ env: {} }).crypto_workers).toBe(defaultCryptoWorkers());
    expect(loadConfig({ env: { CRYPTO_WORKERS: '0' } }).crypto_workers).toBe(0);
    expect(loadConfig({ env: { CRYPTO_WORKERS: '2' } }).crypto_workers).toBe(2);
    expect(loadConfig({ file: file('w.yaml', 'crypto_workers: 3\n') }).crypto_workers).toBe(3);
  });

  it('is frozen', () => {
    const c = loadConfig({ env: {} });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.callbacks)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow();
  });

  it('merges file < env < flags', () => {
    const path = file('a.yaml', 'port: 1111\nhost: 0.0.0.0\nlog_level: warn\n');
    const c = loadConfig({
      env: { KTPAY_MOCK_CONFIG: path, PORT: '2222', ADMIN_TOKEN: 's3cret' },
      flags: { host: '::1' },
    });
    expect(c.port).toBe(2222);
    expect(c.host).toBe('::1');
    expect(c.log_level).toBe('warn');
    expect(c.admin_token).toBe('s3cret');
    expect(c.config_file).toBe(path);
  });

  it('reads JSON config files and merchants from MERCHANTS_JSON', () => {
    const path = file(
      'b.json',
      JSON.stringify({ merchants: [{ name: 'A', domains: ['a.kz'], public_key: 'a'.repeat(43) + '=' }] }),
    );
    const c = loadConfig({
      env: {
        KTPAY_MOCK_CONFIG: path,
        MERCHANTS_JSON: JSON.stringify([{ name: 'B', domains: ['b.kz'], public_key: 'b'.repeat(43) + '=' }]),
      },
    });
    expect(c.merchants.map((m) => m.name)).toEqual(['A', 'B']);
  });

  it('adds DEFAULT_MERCHANT_DOMAINS to the built-in domains', () => {
    const c = loadConfig({ env: { DEFAULT_MERCHANT_DOMAINS: 'merchant, app.internal' } });
    expect(c.default_merchant.domains).toEqual([
      'localhost',
      '127.0.0.1',
      'shop.example.kz',
      'merchant',
      'app.internal',
    ]);
  });

  const bad: [string, () => unknown, RegExp][] = [
    [
      'a port that is not a number',
      () => loadConfig({ env: { PORT: 'eighty' } }),
      /port must be integer \(from environment variable PORT\)/,
    ],
    ['a port out of range', () => loadConfig({ env: { PORT: '70000' } }), /port must be <= 65535/],
    ['an unknown store', () => loadConfig({ env: { STORE: 'redis://x' } }), /store must match pattern/],
    [
      'a public URL with a path',
      () => loadConfig({ env: { PUBLIC_URL: 'http://ktpay:8077/x' } }),
      /public_url/,
    ],
    [
      'an unknown log level',
      () => loadConfig({ env: { LOG_LEVEL: 'loud' } }),
      /log_level must be equal to one of the allowed values/,
    ],
    [
      'an unknown key in the file',
      () => loadConfig({ file: file('c.yaml', 'prot: 80\n') }),
      /prot is not a known setting \(from config file .*c\.yaml\)/,
    ],
    [
      'a bad merchant in the file',
      () =>
        loadConfig({
          file: file('d.yaml', 'merchants:\n  - name: X\n    domains: []\n    public_key: short\n'),
        }),
      /merchants\.0\.domains must NOT have fewer than 1 items/,
    ],
    ['malformed YAML', () => loadConfig({ file: file('e.yaml', 'port: [1,\n') }), /not valid YAML/],
    ['a missing file', () => loadConfig({ file: join(dir, 'missing.yaml') }), /cannot read it \(ENOENT\)/],
    [
      'a non-mapping file',
      () => loadConfig({ file: file('f.yaml', '- 1\n- 2\n') }),
      /top level must be a mapping/,
    ],
    [
      'a fractional or too large CRYPTO_WORKERS',
      () => loadConfig({ env: { CRYPTO_WORKERS: '1.5' } }),
      /crypto_workers must be integer \(from environment variable CRYPTO_WORKERS\)/,
    ],
    [
      'too many crypto workers in the file',
      () => loadConfig({ file: file('g.yaml', 'crypto_workers: 17\n') }),
      /crypto_workers must be <= 16 \(from config file/,
    ],
    [
      'a bad time scale',
      () => loadConfig({ env: { CALLBACK_TIME_SCALE: '0' } }),
      /callbacks\.time_scale must be > 0/,
    ],
  ];
  for (const [name, run, message] of bad) {
    it(`stops with a readable message naming the field for ${name}`, () => {
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(message);
    });
  }

  it('refuses a configured server key whose halves do not belong together', async () => {
    const pk = 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=';
    await expect(
      buildTestApp({
        merchants: [
          {
            name: 'K',
            domains: ['k.kz'],
            public_key: pk,
            server_keys: [{ public_key: pk, secret_key: 'FXdI34095Fxy6QrSUR7LD7MiYEmrS7sVMvMiuQ5Iyg4=' }],
          },
        ],
      }),
    ).rejects.toThrow(/merchants\.0\.server_keys\.0: secret_key does not belong to public_key/);
  });
});

describe('TLS settings', () => {
  it('are off unless a port is set; TLS_DIR alone turns nothing on', () => {
    expect(loadConfig({ env: { TLS_DIR: '/somewhere' } }).tls).toBeUndefined();
    expect(loadConfig({ env: {} }).default_merchant.domains).not.toContain('fintech.test.nplus.tech');
  });

  it('come from TLS_PORT, TLS_HOST, TLS_DIR and TLS_NAMES, names checked and normalized', () => {
    const c = loadConfig({
      env: { HOST: '0.0.0.0', TLS_PORT: '443', TLS_DIR: '/srv/tls', TLS_NAMES: 'Shop.Test, ktpay' },
    });
    expect(c.tls).toEqual({
      port: 443,
      host: '0.0.0.0',
      dir: '/srv/tls',
      names: [
        'fintech.test.nplus.tech',
        'widget.test.nplus.tech',
        'card.test.nplus.tech',
        'localhost',
        '127.0.0.1',
        'shop.test',
        'ktpay',
      ],
    });
    expect(loadConfig({ env: { TLS_PORT: '8443', TLS_HOST: '127.5.5.5' } }).tls?.host).toBe('127.5.5.5');
  });

  it('default the folder to the XDG data folder', () => {
    expect(loadConfig({ env: { TLS_PORT: '8443', XDG_DATA_HOME: '/xdg' } }).tls?.dir).toBe(
      '/xdg/ktpay-mock/tls',
    );
  });

  it('serve --tls: 8443 unless a port is configured; --tls <port> keeps the other TLS settings', () => {
    expect(loadConfig({ env: {}, enableTls: true }).tls?.port).toBe(8443);
    expect(loadConfig({ env: { TLS_PORT: '9443' }, enableTls: true }).tls?.port).toBe(9443);
    const c = loadConfig({ env: { TLS_DIR: '/srv/tls', TLS_PORT: '9443' }, flags: { tls: { port: 443 } } });
    expect(c.tls).toMatchObject({ port: 443, dir: '/srv/tls' });
  });

  it('with HTTPS on, the built-in merchant also has the ktpay test hosts among its domains', () => {
    expect(loadConfig({ env: { TLS_PORT: '443' } }).default_merchant.domains).toEqual([
      'localhost',
      '127.0.0.1',
      'shop.example.kz',
      'fintech.test.nplus.tech',
      'widget.test.nplus.tech',
      'card.test.nplus.tech',
    ]);
  });

  it('refuses a bad port or name, naming the field and where it came from', () => {
    expect(() => loadConfig({ env: { TLS_PORT: '70000' } })).toThrow(
      /tls\.port must be <= 65535 \(from environment variable TLS_PORT\)/,
    );
    expect(() => loadConfig({ env: { TLS_PORT: '443', TLS_NAMES: 'a..b' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { TLS_PORT: '443', TLS_NAMES: 'a..b' } })).toThrow(
      /tls\.names: "a\.\.b" is not a host name or an IP address \(from environment variable TLS_NAMES\)/,
    );
    expect(() => loadConfig({ env: { TLS_PORT: '443', TLS_NAMES: 'http://x' } })).toThrow(ConfigError);
  });
});

describe('config-file merchants', () => {
  it('get a stable app_id derived from the name, and the config wins over what a store holds', async () => {
    const { buildTestApp: build } = await import('../helpers/sandbox.js');
    const { configMerchantAppId } = await import('../../mock-server/merchants/merchant-registry.js');
    const input = {
      name: 'Config shop',
      domains: ['config.kz'],
      public_key: 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=',
    };
    const a = await build({ merchants: [input] });
    const b = await build({ merchants: [{ ...input, domains: ['changed.kz'] }], store: 'memory' });
    try {
      const id = configMerchantAppId('Config shop');
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect((await a.sandbox.merchants.get(id))?.domains).toEqual(['config.kz']);
      expect((await b.sandbox.merchants.get(id))?.domains).toEqual(['changed.kz']);
      // a reset re-installs it exactly once
      await a.inject({ method: 'POST', url: '/__admin/reset' });
      expect((await a.sandbox.merchants.list()).filter((m) => m.name === 'Config shop')).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
