import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS } from '../../mock-server/config/load-config.js';

/**
 * docker/compose.cluster.yaml (issue 17), read as data: no Docker engine runs on the test machines,
 * so this checks what the file promises, not that it runs.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(REPO + p, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] };
  volumes?: string[];
  container_name?: string;
}

describe('docker/compose.cluster.yaml', () => {
  const compose = parseYaml(read('docker/compose.cluster.yaml')) as { services: Record<string, Service> };
  const { postgres, sandbox, lb } = compose.services;

  it('PostgreSQL, three scalable sandbox replicas on it and nginx in front, each with a health check', () => {
    expect(postgres?.image).toMatch(/^postgres:\d+$/);
    expect(lb?.image).toMatch(/^nginx:/);
    expect(sandbox?.deploy?.replicas).toBe(3);
    // Scalable: no fixed name and no published port on the replicas.
    expect(sandbox?.container_name).toBeUndefined();
    expect(sandbox?.ports).toBeUndefined();
    expect(lb?.ports).toEqual(['8077:8077']);
    expect(postgres?.healthcheck?.test).toContain('pg_isready');
    expect(sandbox?.healthcheck).toBeDefined(); // the image's HEALTHCHECK command, probed more often
    expect(lb?.healthcheck?.test?.join(' ')).toContain('/__admin/health');
    expect(sandbox?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(lb?.depends_on?.sandbox?.condition).toBe('service_healthy');
  });

  it('the replicas share one postgres:// store, and every variable they get is a real setting', () => {
    const env = sandbox!.environment!;
    expect(env.STORE).toBe('postgres://ktpay:ktpay@postgres:5432/ktpay');
    for (const name of Object.keys(env)) expect(Object.keys(ENV_VARS)).toContain(name);
  });

  it('nginx balances over every replica and re-resolves the service name, so --scale adds replicas', () => {
    const mount = lb!.volumes!.find((v) => v.includes('nginx.conf'))!;
    const conf = read(`docker/${mount.split(':')[0]!.replace(/^\.\//, '')}`);
    expect(conf).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
    expect(conf).toMatch(/server sandbox:8077 resolve;/);
    expect(conf).toContain('proxy_pass http://sandbox;');
  });
});
