import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCpus } from './usable-cpus.js';

const roots: string[] = [];
/** A fake /sys/fs/cgroup holding the given files. */
function cgroupRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ktpay-cgroup-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), `${text}\n`);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
const V2_ROOT = '0::/\n';
const v1 = (dir: string, quota: string) => ({
  [`${dir}/cpu.cfs_quota_us`]: quota,
  [`${dir}/cpu.cfs_period_us`]: '100000',
});

describe('cgroupCpuQuota', () => {
  it('reads cgroup v2 cpu.max as CPUs, and "max" as no quota', () => {
    expect(cgroupCpuQuota(cgroupRoot({ 'cpu.max': '150000 100000' }), V2_ROOT)).toBe(1.5);
    expect(cgroupCpuQuota(cgroupRoot({ 'cpu.max': 'max 100000' }), V2_ROOT)).toBeUndefined();
  });

  it("finds the quota on the process's own v2 cgroup or one above it, the smallest one winning", () => {
    const root = cgroupRoot({
      'cpu.max': 'max 100000',
      'ci.slice/cpu.max': '300000 100000',
      'ci.slice/job-1/cpu.max': '200000 100000',
      'other/cpu.max': '50000 100000',
    });
    expect(cgroupCpuQuota(root, '0::/ci.slice/job-1\n')).toBe(2);
    expect(cgroupCpuQuota(root, '0::/ci.slice/job-2\n')).toBe(3);
  });

  it('reads cgroup v1 cfs quota over period on the cpu controller, and -1 as no quota', () => {
    expect(cgroupCpuQuota(cgroupRoot(v1('cpu', '200000')), '')).toBe(2);
    expect(cgroupCpuQuota(cgroupRoot(v1('cpu,cpuacct', '50000')), '')).toBe(0.5);
    expect(cgroupCpuQuota(cgroupRoot(v1('cpu', '-1')), '')).toBeUndefined();
    const nested = cgroupRoot({ ...v1('cpu,cpuacct', '-1'), ...v1('cpu,cpuacct/docker/abc', '100000') });
    expect(cgroupCpuQuota(nested, '5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n')).toBe(1);
  });

  it('gives undefined when nothing can be read', () => {
    expect(cgroupCpuQuota(join(tmpdir(), 'ktpay-no-such-cgroup'), V2_ROOT)).toBeUndefined();
    expect(cgroupCpuQuota(cgroupRoot({ 'cpu.max': 'garbage' }), V2_ROOT)).toBeUndefined();
  });
});

describe('usableCpus', () => {
  it('caps the cores by the quota in whole CPUs, at least one', () => {
    expect(usableCpus(cgroupRoot({ 'cpu.max': '150000 100000' }), V2_ROOT, 8)).toBe(1);
    expect(usableCpus(cgroupRoot({ 'cpu.max': '400000 100000' }), V2_ROOT, 2)).toBe(2);
    expect(usableCpus(cgroupRoot({ 'cpu.max': '20000 100000' }), V2_ROOT, 4)).toBe(1);
    expect(usableCpus(cgroupRoot({ 'cpu.max': 'max 100000' }), V2_ROOT, 4)).toBe(4);
  });
});
