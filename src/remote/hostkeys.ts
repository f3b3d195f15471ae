// Host-key pinning: the keys a host may present, from a pinned key or an OpenSSH known_hosts file.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The key blob (wire format) of an OpenSSH public key line "ssh-ed25519 AAAA... comment". */
export function parsePublicKeyLine(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`not an OpenSSH public key line: ${JSON.stringify(line.slice(0, 60))}`);
  return { type, blob: Buffer.from(b64, 'base64') };
}

/** "SHA256:..." as ssh-keygen -l prints it. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The name known_hosts uses for host:port ("host" for port 22, "[host]:port" otherwise). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  const re = new RegExp('^' + pattern.replace(/[.+^${}()[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(name);
}

/**
 * The key blobs known_hosts pins for host:port. A host listed only under "@revoked" yields none
 * and its revoked keys are returned separately so the caller can refuse them explicitly.
 */
export function knownHostKeys(text: string, host: string, port: number): { keys: Buffer[]; revoked: Buffer[] } {
  const name = knownHostsName(host, port);
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker = '';
    if (fields[0]?.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    const [hosts, , b64] = fields;
    if (!hosts || !b64) continue;
    let matched = false;
    let negated = false;
    for (const p of hosts.split(',')) {
      if (p.startsWith('!')) {
        if (patternMatches(p.slice(1), name)) negated = true;
      } else if (patternMatches(p, name)) {
        matched = true;
      }
    }
    if (!matched || negated) continue;
    const blob = Buffer.from(b64, 'base64');
    if (marker === '@revoked') revoked.push(blob);
    else if (marker === '') keys.push(blob);
  }
  return { keys, revoked };
}

export function readKnownHosts(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
