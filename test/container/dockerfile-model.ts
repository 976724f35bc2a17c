/**
 * Reads docker/Dockerfile with a real Dockerfile parser (dockerfile-ast) and replays its build
 * and start without a Docker engine: COPY copies (honouring .dockerignore), RUN runs, ENV, WORKDIR,
 * USER, EXPOSE, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and CMD are taken as written. The container
 * test uses it so that the Dockerfile and the test cannot drift apart: nothing here repeats a
 * command from the Dockerfile.
 *
 * What cannot be replayed on the host is explicit, never silent:
 * - each stage's filesystem is a folder (`<root>/stages/<name>/`); a container path maps into it;
 * - the base image's own programs (node, npm, sh, tar) are the host's; the base image's major Node
 *   version must equal the host's, or the replay refuses to run;
 * - an `apt-get install` RUN is not executed (it would change the host): the named Debian packages
 *   must already be installed on the host, which is Debian too;
 * - every other RUN must stay inside its WORKDIR (no absolute paths), and runs with `sh -c` there;
 * - `COPY --chown` gives the copy to that user when the replay runs as root; otherwise it cannot
 *   (only root gives files away), says so in the log, and records the owner Docker would set in
 *   `ownership`;
 * - an instruction the replay does not know (ADD, SHELL, VOLUME, ONBUILD, ARG inside a stage, COPY
 *   with wildcards or --chmod/--link) throws instead of being skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants as fsConstants,
  cpSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import {
  DockerfileParser,
  From,
  type Copy,
  type Env,
  type Instruction,
  type ModifiableInstruction,
} from 'dockerfile-ast';

// The package is CommonJS (`module.exports = factory`) but its types declare an ES default export.
const createDockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** Docker's PATH when an image sets none; the official node images keep it. */
export const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Users the official node images define, for USER given by name. */
const KNOWN_USERS: Record<string, number> = { root: 0, node: 1000 };

export type Step =
  | { kind: 'WORKDIR'; path: string; line: number }
  | {
      kind: 'COPY';
      from: string | undefined;
      sources: string[];
      dest: string;
      /** `--chown=<user>[:<group>]`, as written. */
      chown: string | undefined;
      line: number;
    }
  | { kind: 'RUN'; command: string; line: number }
  | { kind: 'ENV'; pairs: [string, string][]; line: number }
  | { kind: 'USER'; user: string; line: number }
  | { kind: 'EXPOSE'; ports: string[]; line: number }
  | { kind: 'HEALTHCHECK'; flags: Record<string, string>; test: string[] | 'NONE'; line: number }
  | { kind: 'STOPSIGNAL'; signal: string; line: number }
  | { kind: 'ENTRYPOINT'; argv: string[]; execForm: boolean; line: number }
  | { kind: 'CMD'; argv: string[]; execForm: boolean; line: number }
  | { kind: 'LABEL'; line: number }
  | { kind: 'UNSUPPORTED'; keyword: string; text: string; line: number };

export interface Stage {
  name: string;
  /** The FROM image with build args expanded, e.g. `node:20-bookworm-slim`. */
  image: string;
  imageName: string;
  imageTag: string | undefined;
  steps: Step[];
}

export interface DockerfileModel {
  args: Record<string, string>;
  stages: Stage[];
}

/** Expands `$VAR` and `${VAR}` as Docker does for ENV, WORKDIR, COPY, USER and EXPOSE. */
export function expandVars(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`\${${name}}: modifiers such as :- and :+ are not supported by the replay`);
      }
      return vars[name] ?? '';
    },
  );
}

function jsonOrShell(raw: string): { argv: string[]; execForm: boolean } {
  const text = raw.trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string'))
        return { argv: parsed, execForm: true };
    } catch {
      // Docker treats a bracketed value that is not a JSON string array as shell form.
    }
  }
  return { argv: ['/bin/sh', '-c', text], execForm: false };
}

function stepOf(ins: Instruction): Step {
  const line = ins.getRange().start.line + 1;
  const keyword = ins.getKeyword();
  const content = ins.getArgumentsContent() ?? '';
  switch (keyword) {
    case 'WORKDIR':
      return { kind: 'WORKDIR', path: content.trim(), line };
    case 'COPY': {
      const copy = ins as Copy;
      const flags = copy.getFlags();
      const unknown = flags.filter((f) => f.getName() !== 'from' && f.getName() !== 'chown');
      if (unknown.length) {
        return { kind: 'UNSUPPORTED', keyword: `COPY --${unknown[0]!.getName()}`, text: content, line };
      }
      const words = copy
        .getArguments()
        .map((a) => a.getValue())
        .filter((w) => !w.startsWith('--'));
      if (words.length < 2)
        return { kind: 'UNSUPPORTED', keyword: 'COPY without a destination', text: content, line };
      return {
        kind: 'COPY',
        from: flags.find((f) => f.getName() === 'from')?.getValue() ?? undefined,
        chown: flags.find((f) => f.getName() === 'chown')?.getValue() ?? undefined,
        sources: words.slice(0, -1),
        dest: words.at(-1)!,
        line,
      };
    }
    case 'RUN':
      if (content.trim().startsWith('['))
        return { kind: 'UNSUPPORTED', keyword: 'RUN (exec form)', text: content, line };
      if ((ins as ModifiableInstruction).getFlags().length)
        return { kind: 'UNSUPPORTED', keyword: 'RUN --flags', text: content, line };
      return { kind: 'RUN', command: content.trim(), line };
    case 'ENV':
      return {
        kind: 'ENV',
        pairs: (ins as Env)
          .getProperties()
          .map((p) => [p.getName(), p.getUnescapedValue() ?? ''] as [string, string]),
        line,
      };
    case 'USER':
      return { kind: 'USER', user: content.trim(), line };
    case 'EXPOSE':
      return { kind: 'EXPOSE', ports: content.trim().split(/\s+/), line };
    case 'HEALTHCHECK': {
      if (/^\s*NONE\s*$/i.test(content)) return { kind: 'HEALTHCHECK', flags: {}, test: 'NONE', line };
      const flags: Record<string, string> = {};
      for (const f of (ins as ModifiableInstruction).getFlags()) flags[f.getName()] = f.getValue() ?? '';
      const cmd = /(?:^|\s)CMD\s+([\s\S]*)$/.exec(content);
      if (!cmd) return { kind: 'UNSUPPORTED', keyword: 'HEALTHCHECK without CMD', text: content, line };
      return { kind: 'HEALTHCHECK', flags, test: jsonOrShell(cmd[1]!).argv, line };
    }
    case 'STOPSIGNAL':
      return { kind: 'STOPSIGNAL', signal: content.trim(), line };
    case 'ENTRYPOINT':
    case 'CMD':
      return { kind: keyword, ...jsonOrShell(content), line };
    case 'LABEL':
      return { kind: 'LABEL', line };
    default:
      return { kind: 'UNSUPPORTED', keyword, text: content, line };
  }
}

/** Parses the Dockerfile into stages of typed steps. */
export function parseDockerfile(text: string): DockerfileModel {
  const df = DockerfileParser.parse(text);
  const args: Record<string, string> = {};
  for (const arg of df.getInitialARGs()) {
    const p = arg.getProperty();
    if (p) args[p.getName()] = p.getUnescapedValue() ?? '';
  }
  const stages: Stage[] = [];
  for (const ins of df.getInstructions()) {
    if (ins instanceof From) {
      const image = expandVars(ins.getImage() ?? '', args);
      const [imageName, imageTag] = image.split(':') as [string, string | undefined];
      stages.push({
        name: ins.getBuildStage() ?? String(stages.length),
        image,
        imageName,
        imageTag,
        steps: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) continue; // ARGs before the first FROM, read above
    stage.steps.push(stepOf(ins));
  }
  return { args, stages };
}

/** The image config that `docker inspect` would show for a stage. */
export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string;
  expose: string[];
  healthcheck: { flags: Record<string, string>; test: string[] } | undefined;
  stopSignal: string;
  entrypoint: string[];
  cmd: string[];
}

/** What the replay of every stage left behind: one folder per stage, and the last stage's config. */
export interface ReplayedImage {
  root: string;
  stageRoots: Record<string, string>;
  /** The final stage's filesystem root: container path `/x` is `rootfs + /x`. */
  rootfs: string;
  config: ImageConfig;
  /** How long each RUN took, for the test log. */
  timings: { stage: string; line: number; what: string; ms: number }[];
  /** Container paths a `COPY --chown` gave away in the final stage, with the owner Docker sets. */
  ownership: Record<string, { uid: number; gid: number; applied: boolean }>;
}

export interface ReplayOptions {
  contextDir: string;
  dockerfile: DockerfileModel;
  /** An empty folder the stages are replayed in. */
  workRoot: string;
  /** Host environment for RUN commands, added under the stage's ENV (e.g. HOME for npm's cache). */
  hostEnv: Record<string, string>;
  log?: (line: string) => void;
}

/** Host path of a container path inside one stage's filesystem. */
export function mapPath(rootfs: string, containerPath: string): string {
  return join(rootfs, posix.normalize(containerPath));
}

/**
 * A .dockerignore matcher with Docker's semantics (patterns anchored at the context root, `!`
 * exceptions, last match wins), plus the exception list so directory walks can prune.
 */
export function loadDockerignore(contextDir: string) {
  const file = join(contextDir, '.dockerignore');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const matcher = createDockerignore().add(text);
  const exceptions = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => posix.normalize(l.slice(1)).replace(/^\/+|\/+$/g, ''));
  return {
    ignores: (rel: string) => matcher.ignores(rel),
    /** A directory that is ignored may still hold re-included paths. */
    mayHoldExceptions: (rel: string) => exceptions.some((e) => e.startsWith(`${rel}/`)),
  };
}

/** Copies one context path (file or directory contents) to `dest`, skipping ignored paths. */
function copyFromContext(
  contextDir: string,
  rel: string,
  dest: string,
  ignore: ReturnType<typeof loadDockerignore>,
) {
  const src = join(contextDir, rel);
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const entry of readdirSync(src)) {
      const childRel = rel === '.' ? entry : `${rel}/${entry}`;
      const childSt = lstatSync(join(src, entry));
      if (ignore.ignores(childRel) && !(childSt.isDirectory() && ignore.mayHoldExceptions(childRel)))
        continue;
      copyFromContext(contextDir, childRel, join(dest, entry), ignore);
    }
  } else if (st.isSymbolicLink()) {
    mkdirSync(dirname(dest), { recursive: true });
    symlinkSync(readlinkSync(src), dest);
  } else {
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(src, dest, { preserveTimestamps: true });
  }
}

/** Package names of an `apt-get install` RUN, or undefined when the RUN is not one. */
export function aptPackages(command: string): string[] | undefined {
  if (!/^\s*apt-get\b/.test(command)) return undefined;
  const packages: string[] = [];
  for (const part of command.split(/&&|;/)) {
    const words = part.trim().split(/\s+/);
    if (words[0] !== 'apt-get' || !words.includes('install')) continue;
    packages.push(...words.slice(words.indexOf('install') + 1).filter((w) => !w.startsWith('-')));
  }
  return packages;
}

function hostHasDebianPackage(pkg: string): boolean {
  const q = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  if (q.error) return spawnSync('sh', ['-c', `command -v ${pkg}`]).status === 0;
  return q.status === 0 && q.stdout.includes('install ok installed');
}

/**
 * Runs `sh -c command` in `cwd` (Docker's shell form), resolving with the time it took or rejecting
 * with its output. It runs at a lower CPU priority (`nice`): the replay's npm installs and compile
 * share the machine with the rest of the test suite, whose timings matter more.
 */
function runShell(command: string, cwd: string, env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const niceBin = which('nice', env.PATH ?? '');
  const argv = niceBin ? [niceBin, '-n', '10', '/bin/sh', '-c', command] : ['/bin/sh', '-c', command];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`RUN ${command}\nexited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** PATH for a process on the host: image entries that exist in the replayed filesystem are mapped into it. */
export function hostPath(rootfs: string, imagePath: string): string {
  return imagePath
    .split(':')
    .filter(Boolean)
    .map((entry) => (existsSync(mapPath(rootfs, entry)) && entry !== '/' ? mapPath(rootfs, entry) : entry))
    .join(':');
}

/** Finds `name` on a PATH the way execvp does, returning the host path of the executable. */
export function which(name: string, pathList: string): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of pathList.split(':')) {
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Replays every stage in order and returns the final image. */
export async function replayBuild(opts: ReplayOptions): Promise<ReplayedImage> {
  const { contextDir, dockerfile, workRoot, hostEnv } = opts;
  const log = opts.log ?? (() => {});
  const ignore = loadDockerignore(contextDir);
  const stageRoots: Record<string, string> = {};
  const timings: ReplayedImage['timings'] = [];
  let config: ImageConfig | undefined;
  let rootfs = '';
  let ownership: ReplayedImage['ownership'] = {};

  const hostMajor = process.versions.node.split('.')[0];
  for (const stage of dockerfile.stages) {
    if (stage.imageName !== 'node' && !(stage.imageName in stageRoots)) {
      throw new Error(`FROM ${stage.image}: only official node images (or earlier stages) can be replayed`);
    }
    if (stage.imageName === 'node' && stage.imageTag?.split(/[.-]/)[0] !== hostMajor) {
      throw new Error(
        `FROM ${stage.image}: the host runs Node ${process.versions.node}; the replay needs the same major version`,
      );
    }
    rootfs = join(workRoot, 'stages', stage.name);
    ownership = {};
    /** COPY --chown: Docker gives the copied tree to that user; the replay can only as root. */
    const giveAway = (chown: string, hostTarget: string, containerPath: string) => {
      const { uid, gid } = userIds(chown);
      const applied = process.getuid?.() === 0;
      if (applied) chownTree(hostTarget, uid, gid);
      else
        log(`[${stage.name}] COPY --chown=${chown} ${containerPath}: not applied (the replay is not root)`);
      ownership[containerPath] = { uid, gid, applied };
    };
    mkdirSync(rootfs, { recursive: true });
    chmodSync(rootfs, 0o755);
    stageRoots[stage.name] = rootfs;
    const cfg: ImageConfig = {
      env: { PATH: DOCKER_DEFAULT_PATH },
      workdir: '/',
      user: 'root',
      expose: [],
      healthcheck: undefined,
      stopSignal: 'SIGTERM',
      entrypoint: [],
      cmd: [],
    };
    for (const step of stage.steps) {
      switch (step.kind) {
        case 'WORKDIR':
          cfg.workdir = posix.resolve(cfg.workdir, expandVars(step.path, cfg.env));
          mkdirSync(mapPath(rootfs, cfg.workdir), { recursive: true });
          break;
        case 'ENV':
          for (const [k, v] of step.pairs) cfg.env[k] = expandVars(v, cfg.env);
          break;
        case 'COPY': {
          if (step.sources.some((s) => /[*?[]/.test(s)))
            throw new Error(`line ${step.line}: COPY wildcards are not replayed`);
          const dest = posix.resolve(cfg.workdir, expandVars(step.dest, cfg.env));
          const destIsDir = step.dest.endsWith('/') || step.sources.length > 1;
          for (const source of step.sources.map((s) => expandVars(s, cfg.env))) {
            if (step.from !== undefined) {
              const fromRoot = stageRoots[step.from];
              if (!fromRoot)
                throw new Error(`line ${step.line}: COPY --from=${step.from} names no earlier stage`);
              const src = mapPath(fromRoot, posix.resolve('/', source));
              if (!existsSync(src))
                throw new Error(`line ${step.line}: COPY --from=${step.from} ${source}: not found`);
              const isDir = lstatSync(src).isDirectory();
              const target =
                isDir || !destIsDir
                  ? mapPath(rootfs, dest)
                  : mapPath(rootfs, posix.join(dest, posix.basename(source)));
              mkdirSync(isDir ? target : dirname(target), { recursive: true });
              cpSync(src, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
              if (step.chown)
                giveAway(
                  step.chown,
                  target,
                  isDir || !destIsDir ? dest : posix.join(dest, posix.basename(source)),
                );
            } else {
              const rel = posix.normalize(source.replace(/^\/+/, '')) || '.';
              if (rel !== '.' && ignore.ignores(rel))
                throw new Error(`line ${step.line}: COPY ${source}: excluded by .dockerignore`);
              if (!existsSync(join(contextDir, rel)))
                throw new Error(`line ${step.line}: COPY ${source}: not in the build context`);
              const isDir = lstatSync(join(contextDir, rel)).isDirectory();
              const target =
                isDir || !destIsDir
                  ? mapPath(rootfs, dest)
                  : mapPath(rootfs, posix.join(dest, posix.basename(rel)));
              copyFromContext(contextDir, rel, target, ignore);
              if (step.chown)
                giveAway(
                  step.chown,
                  target,
                  isDir || !destIsDir ? dest : posix.join(dest, posix.basename(rel)),
                );
            }
          }
          break;
        }
        case 'RUN': {
          const packages = aptPackages(step.command);
          if (packages) {
            const missing = packages.filter((p) => !hostHasDebianPackage(p));
            if (missing.length)
              throw new Error(`line ${step.line}: the host lacks Debian packages ${missing.join(', ')}`);
            log(
              `[${stage.name}] line ${step.line}: apt-get not run; the host already has ${packages.join(', ')}`,
            );
            break;
          }
          if (/(^|[\s=:'"(])\/[A-Za-z]/.test(step.command)) {
            throw new Error(
              `line ${step.line}: RUN uses an absolute path; keep RUN inside the WORKDIR so it can be replayed`,
            );
          }
          const env = { ...hostEnv, ...cfg.env, PATH: hostPath(rootfs, cfg.env.PATH ?? DOCKER_DEFAULT_PATH) };
          const ms = await runShell(step.command, mapPath(rootfs, cfg.workdir), env);
          timings.push({
            stage: stage.name,
            line: step.line,
            what: step.command.replace(/\s+/g, ' ').slice(0, 90),
            ms,
          });
          log(
            `[${stage.name}] line ${step.line}: ${Math.round(ms)} ms  ${step.command.replace(/\s+/g, ' ')}`,
          );
          break;
        }
        case 'USER':
          cfg.user = expandVars(step.user, cfg.env);
          break;
        case 'EXPOSE':
          cfg.expose.push(...step.ports.map((p) => expandVars(p, cfg.env)));
          break;
        case 'HEALTHCHECK':
          cfg.healthcheck = step.test === 'NONE' ? undefined : { flags: step.flags, test: step.test };
          break;
        case 'STOPSIGNAL':
          cfg.stopSignal = step.signal;
          break;
        case 'ENTRYPOINT':
          cfg.entrypoint = step.argv;
          cfg.cmd = []; // Docker resets CMD when ENTRYPOINT is set
          break;
        case 'CMD':
          cfg.cmd = step.argv;
          break;
        case 'LABEL':
          break;
        case 'UNSUPPORTED':
          throw new Error(`line ${step.line}: ${step.keyword} is not replayed by the container test`);
      }
    }
    config = cfg;
  }
  if (!config) throw new Error('the Dockerfile has no stage');
  return { root: workRoot, stageRoots, rootfs, config, timings, ownership };
}

/** chown -R without following symlinks. */
function chownTree(path: string, uid: number, gid: number) {
  lchownSync(path, uid, gid);
  if (lstatSync(path).isDirectory())
    for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/** uid and gid of a USER value (`1000:1000`, `node`, `root`). */
export function userIds(user: string): { uid: number; gid: number } {
  const [u = 'root', g] = user.split(':');
  const uid = /^\d+$/.test(u) ? Number(u) : KNOWN_USERS[u];
  if (uid === undefined) throw new Error(`USER ${user}: unknown user name`);
  const gid = g === undefined ? uid : /^\d+$/.test(g) ? Number(g) : KNOWN_USERS[g];
  if (gid === undefined) throw new Error(`USER ${user}: unknown group name`);
  return { uid, gid };
}

/** Parses a Docker duration such as `5s`, `500ms` or `1m30s` into milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let consumed = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0];
  }
  if (consumed !== text) throw new Error(`not a Docker duration: ${text}`);
  return total;
}
