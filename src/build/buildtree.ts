// The host's kernel build trees: which Debian kernels can be built for, and whether a tree matches a target.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelIdentity } from '../remote/model.js';
import { TargetError } from '../remote/target.js';

export interface BuildTree {
  release: string;
  /** /lib/modules/REL/build, resolved. */
  dir: string;
  /** UTS_VERSION, e.g. "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)". */
  utsVersion: string;
  /** The vermagic modules built here carry. */
  vermagic: string;
}

/** A Debian kernel image on this host whose build tree is installed too. */
export interface HostKernel {
  release: string;
  vmlinuz: string;
  modulesDir: string;
  buildTree: BuildTree;
}

function defineValue(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const m = new RegExp(`#define\\s+${name}\\s+"([^"]*)"`).exec(readFileSync(file, 'utf8'));
  return m?.[1];
}

/** Reads a build tree's identity; undefined when `dir` is not a configured kbuild tree. */
export function readBuildTree(dir: string): BuildTree | undefined {
  if (!existsSync(dir)) return undefined;
  const real = realpathSync(dir);
  const release = defineValue(join(real, 'include/generated/utsrelease.h'), 'UTS_RELEASE');
  const autoConf = join(real, 'include/config/auto.conf');
  if (!release || !existsSync(autoConf)) return undefined;
  const config = new Set(
    readFileSync(autoConf, 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('=y'))
      .map((l) => l.slice(0, -2)),
  );
  // Mirrors include/linux/vermagic.h: the words a module's vermagic carries, in order.
  const words = [release];
  if (config.has('CONFIG_SMP')) words.push('SMP');
  if (config.has('CONFIG_PREEMPT_RT')) words.push('preempt_rt');
  else if (config.has('CONFIG_PREEMPT_BUILD') || config.has('CONFIG_PREEMPT')) words.push('preempt');
  if (config.has('CONFIG_MODULE_UNLOAD')) words.push('mod_unload');
  if (config.has('CONFIG_MODVERSIONS')) words.push('modversions');
  if (config.has('CONFIG_RANDSTRUCT')) words.push('RANDSTRUCT');
  return {
    release,
    dir: real,
    utsVersion: defineValue(join(real, 'include/generated/utsversion.h'), 'UTS_VERSION') ?? '',
    vermagic: words.join(' '),
  };
}

function compareReleases(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Debian kernels installed on this host that also have their build tree, newest first. */
export function hostKernels(): HostKernel[] {
  let names: string[] = [];
  try {
    names = readdirSync('/boot');
  } catch {
    return [];
  }
  const out: HostKernel[] = [];
  for (const n of names) {
    if (!n.startsWith('vmlinuz-')) continue;
    const release = n.slice('vmlinuz-'.length);
    const modulesDir = join('/lib/modules', release);
    const tree = readBuildTree(join(modulesDir, 'build'));
    if (tree && tree.release === release) out.push({ release, vmlinuz: join('/boot', n), modulesDir, buildTree: tree });
  }
  return out.sort((a, b) => compareReleases(b.release, a.release));
}

/** The kernel the lab VM boots: $TAPSH_LAB_KERNEL's release if set, else the newest usable one. */
export function labKernel(): HostKernel {
  const kernels = hostKernels();
  const wanted = process.env['TAPSH_LAB_KERNEL'];
  const k = wanted ? kernels.find((x) => x.release === wanted) : kernels[0];
  if (!k) {
    const detail = wanted
      ? `no kernel image /boot/vmlinuz-${wanted} with a build tree in /lib/modules/${wanted}/build`
      : 'no Debian kernel image with a matching build tree is installed';
    throw new TargetError('LAB_FAILED', 'lab VM', 'find a kernel to boot', detail,
      `Install one: apt-get install -y --no-install-recommends linux-image-amd64 linux-headers-amd64 (or run scripts/setup as root).`);
  }
  return k;
}

/**
 * The build tree to compile for a target kernel. Refuses a tree whose release, version string or
 * vermagic differs from the target's: a module built there would not load, or would load and crash.
 */
export function buildTreeFor(identity: KernelIdentity, explicitDir?: string): BuildTree {
  const dir = explicitDir ?? join('/lib/modules', identity.release, 'build');
  const pkg = `linux-headers-${identity.release}`;
  const tree = readBuildTree(dir);
  const fail = (detail: string, remedy: string) => {
    throw new TargetError('BUILD_TREE_MISMATCH', 'this host', `check the build tree for kernel ${identity.release}`, detail, remedy);
  };
  if (!tree) {
    return fail(`there is no kernel build tree at ${dir}`, `Install the matching headers: apt-get install ${pkg}`);
  }
  if (tree.release !== identity.release) {
    return fail(`the build tree at ${tree.dir} is for ${tree.release}, the target runs ${identity.release}`, `Install the matching headers: apt-get install ${pkg}`);
  }
  if (tree.utsVersion && identity.version && !identity.version.includes(tree.utsVersion)) {
    return fail(`the build tree is version "${tree.utsVersion}" but the target reports "${identity.version.trim()}"`,
      `The target runs a different build of ${identity.release}: upgrade the target's kernel and this host's ${pkg} to the same Debian version.`);
  }
  if (identity.vermagic && identity.vermagic.trim() !== tree.vermagic) {
    return fail(`modules built here would carry vermagic "${tree.vermagic}", the target expects "${identity.vermagic.trim()}"`,
      `Install the headers the target's kernel was built with: apt-get install ${pkg}`);
  }
  return tree;
}
