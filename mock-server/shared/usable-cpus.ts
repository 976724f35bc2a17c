import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The quota in one cgroup folder, in CPUs: v2 `cpu.max` (`<quota> <period>` or `max …`), v1 cfs files. */
function quotaIn(dir: string): number | undefined {
  const v2 = readText(join(dir, 'cpu.max'));
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    const q = Number(quota);
    const p = Number(period ?? 100_000);
    return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
  }
  const quota = Number(readText(join(dir, 'cpu.cfs_quota_us')));
  const period = Number(readText(join(dir, 'cpu.cfs_period_us')));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** The cgroup folders to look in: this process's own and each above it, for v2 and v1's cpu controller. */
function cgroupDirs(root: string, procSelfCgroup: string): string[] {
  const dirs: string[] = [];
  const chain = (base: string, path: string) => {
    for (let p = posix.normalize(path || '/'); ; p = posix.dirname(p)) {
      dirs.push(join(base, p));
      if (p === '/' || p === '.') break;
    }
  };
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (controllers === undefined || path === undefined) continue;
    if (controllers === '') chain(root, path);
    else if (controllers.split(',').includes('cpu')) chain(join(root, controllers), path);
  }
  // Inside a container the mounted hierarchy is often the container's own cgroup, whatever
  // /proc/self/cgroup names: its top folders count too.
  dirs.push(root, join(root, 'cpu'), join(root, 'cpu,cpuacct'));
  return dirs;
}

/**
 * The CPU quota of this process's cgroup in CPUs (`docker run --cpus 1.5` gives 1.5), or undefined
 * when there is none or it cannot be read: the smallest quota set on its own cgroup or any above it
 * (cgroup v2 `cpu.max`, cgroup v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`).
 */
export function cgroupCpuQuota(
  root = '/sys/fs/cgroup',
  procSelfCgroup = readText('/proc/self/cgroup') ?? '',
): number | undefined {
  let least: number | undefined;
  for (const dir of cgroupDirs(root, procSelfCgroup)) {
    const q = quotaIn(dir);
    if (q !== undefined && (least === undefined || q < least)) least = q;
  }
  return least;
}

/**
 * The whole CPUs this process can keep busy: the cores it may run on (`os.availableParallelism()`,
 * which does not see a CPU quota), capped by its cgroup's CPU quota, at least 1.
 *
 * @example
 * usableCpus(); // 1 in a container started with --cpus 1.5 on an 8-core host
 */
export function usableCpus(
  root = '/sys/fs/cgroup',
  procSelfCgroup?: string,
  cores = availableParallelism(),
): number {
  const quota = cgroupCpuQuota(root, procSelfCgroup);
  return Math.max(1, quota === undefined ? cores : Math.min(cores, Math.floor(quota)));
}
