// Builds the lab VM's initramfs: busybox, dropbear and its libraries, the network modules and /init.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CpioWriter } from '../boottime/cpio.js';
import type { HostKernel } from '../build/buildtree.js';
import { cacheDir } from '../util/cache.js';
import { TargetError } from './target.js';

/** Modules the guest loads at boot (with their dependencies, from modules.dep). */
const NETWORK_MODULES = ['virtio_pci', 'virtio_net'];

const BUSYBOX = '/bin/busybox';
const DROPBEAR = '/usr/sbin/dropbear';

/** Lines /init writes to the console; the host watches for them to report progress. */
export const LAB_MARKERS = {
  init: 'tapsh-lab: init',
  network: 'tapsh-lab: network up',
  sshd: 'tapsh-lab: sshd started',
} as const;

function fail(detail: string, remedy: string): never {
  throw new TargetError('LAB_FAILED', 'lab VM', 'build the initramfs', detail, remedy);
}

/** Paths from modules.dep (relative to the modules dir) for `names` and their dependencies, load order first. */
export function moduleLoadOrder(modulesDep: string, names: string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    deps.set(line.slice(0, colon), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map<string, string>();
  for (const path of deps.keys()) {
    const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|gz|zst))?$/, '');
    byName.set(base.replace(/-/g, '_'), path);
  }
  const order: string[] = [];
  const visit = (path: string, stack: string[]) => {
    if (order.includes(path)) return;
    if (stack.includes(path)) return; // modules.dep has no cycles, but never loop on a bad file
    // modules.dep lists every (transitive) dependency, nearest first: load them last-to-first.
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d, [...stack, path]);
    order.push(path);
  };
  for (const n of names) {
    const path = byName.get(n);
    if (!path) fail(`module ${n} is not in modules.dep`, 'Is the kernel package complete? Reinstall linux-image-amd64.');
    visit(path, []);
  }
  return order;
}

/** The shared libraries a dynamically linked program needs, as `ldd` lists them (including the loader). */
function sharedLibraries(program: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [program], { encoding: 'utf8' });
  } catch (e) {
    fail(`ldd ${program} failed: ${(e as Error).message}`, 'Install libc-bin (ldd) and dropbear-bin.');
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

function initScript(release: string, modules: string[]): string {
  const insmods = modules.map((m) => `insmod /lib/modules/${release}/${m} || echo "tapsh-lab: insmod ${m} failed"`).join('\n');
  return `#!/bin/sh
# The lab VM's init: mount the kernel filesystems, bring up the network, start dropbear, wait.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t tmpfs tmpfs /tmp
echo "${LAB_MARKERS.init}"
${insmods}
hostname tapsh-lab
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
echo "${LAB_MARKERS.network}"
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64
dropbear -r /etc/dropbear/host_ed25519 -E -p 22 -s -P /var/run/dropbear.pid 2>>/var/log/dropbear.log
echo "${LAB_MARKERS.sshd}"
while :; do sleep 3600; done
`;
}

/**
 * Returns the path of the gzipped base initramfs for `kernel` (everything but the per-instance
 * keys), building it if the cache has none for the current inputs.
 */
export function baseInitramfs(kernel: HostKernel): string {
  for (const p of [BUSYBOX, DROPBEAR]) {
    if (!existsSync(p)) fail(`${p} is missing`, 'Install busybox-static and dropbear-bin (scripts/setup does it).');
  }
  const depText = readFileSync(join(kernel.modulesDir, 'modules.dep'), 'utf8');
  const modules = moduleLoadOrder(depText, NETWORK_MODULES);
  for (const m of modules) {
    if (!m.endsWith('.ko')) fail(`module ${m} is compressed; busybox insmod here loads plain .ko files`, 'Use a kernel package with uncompressed modules.');
  }
  const init = initScript(kernel.release, modules);
  const files: [string, string][] = [
    ['bin/busybox', BUSYBOX],
    ['usr/sbin/dropbear', DROPBEAR],
    ...sharedLibraries(DROPBEAR).map((l): [string, string] => [l, l]),
    ...modules.map((m): [string, string] => [`lib/modules/${kernel.release}/${m}`, join(kernel.modulesDir, m)]),
  ];
  const contents = files.map(([dest, src]) => [dest, readFileSync(realpathSync(src))] as const);
  const key = createHash('sha256');
  key.update(`tapsh-lab-initramfs v1\0${kernel.release}\0${init}\0`);
  for (const [dest, data] of contents) key.update(dest).update('\0').update(createHash('sha256').update(data).digest());
  const digest = key.digest('hex').slice(0, 16);
  const dir = cacheDir('initramfs');
  const path = join(dir, `lab-${kernel.release}-${digest}.cpio.gz`);
  if (existsSync(path)) return path;

  const w = new CpioWriter();
  for (const d of ['dev', 'proc', 'sys', 'tmp', 'root', 'etc', 'var/run', 'var/log', 'sbin', 'usr/bin']) w.dir(d, d === 'tmp' ? 0o1777 : 0o755);
  w.device('dev/console', 'char', 5, 1, 0o600);
  w.device('dev/null', 'char', 1, 3, 0o666);
  w.file('init', init, 0o755);
  // The subset of modules.dep for what we ship, so modprobe and modinfo work in the guest.
  const depLines = depText.split('\n').filter((l) => modules.includes(l.slice(0, l.indexOf(':'))));
  w.file(`lib/modules/${kernel.release}/modules.dep`, depLines.join('\n') + '\n');
  for (const [dest, data] of contents) w.file(dest, data, 0o755);
  w.symlink('bin/sh', 'busybox');
  w.file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  w.file('etc/group', 'root:x:0:\n');
  w.file('etc/shells', '/bin/sh\n');
  w.dir('root/.ssh', 0o700);
  w.dir('etc/dropbear', 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(w.finish(), { level: 6 }));
  renameSync(tmp, path); // atomic: a concurrent builder never sees half a file
  return path;
}

/** The per-instance part: the guest's host key and the client key it accepts. */
export function instanceInitramfs(dropbearHostKey: Buffer, authorizedKey: string): Buffer {
  const w = new CpioWriter();
  w.dir('etc/dropbear', 0o700);
  w.file('etc/dropbear/host_ed25519', dropbearHostKey, 0o600);
  w.dir('root', 0o700);
  w.dir('root/.ssh', 0o700);
  w.file('root/.ssh/authorized_keys', authorizedKey.endsWith('\n') ? authorizedKey : authorizedKey + '\n', 0o600);
  return w.finish();
}

/** Concatenates archives the way the kernel accepts them: each member starts 4-byte aligned. */
export function concatInitramfs(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  let len = 0;
  for (const p of parts) {
    out.push(p);
    len += p.length;
    const pad = (4 - (len % 4)) % 4;
    if (pad) {
      out.push(Buffer.alloc(pad));
      len += pad;
    }
  }
  return Buffer.concat(out);
}
