import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadUserKnownHosts, lookupKnownHosts, parseKnownHosts } from './known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'portwright-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `type base64` of a fresh key, as it appears in known_hosts. */
function makeKey(name: string, type: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
}

/** The known_hosts lines ssh-keygen -F finds for a host name, as OpenSSH itself matches them. */
function opensshFinds(file: string, name: string): number[] {
  try {
    const out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8', stdio: 'pipe' });
    return [...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
  } catch {
    return []; // exit status 1: not found
  }
}

let ed: string, ecdsa: string, other: string, ca: string;
let file: string;
let text: string;

beforeAll(() => {
  ed = makeKey('ed', 'ed25519');
  ecdsa = makeKey('ecdsa', 'ecdsa');
  other = makeKey('other', 'ed25519');
  ca = makeKey('ca', 'ed25519');
  text = [
    '# devices in the packing hall', //                        1
    `gateway-1,198.18.0.10 ${ed} engineer@laptop`, //          2
    `[gateway-1]:2222 ${ecdsa}`, //                            3
    '', //                                                     4
    `*.plant.example,!bad.plant.example ${other}`, //          5
    `@revoked cam-?? ${other}`, //                             6
    `@cert-authority *.plant.example ${ca}`, //                7
    `   [198.18.0.11]:22 ${ed}`, //                            8
  ].join('\n');
  file = join(dir, 'known_hosts');
  writeFileSync(file, text + '\n');
});

const fingerprintOf = (pub: string) =>
  execFileSync('ssh-keygen', ['-lf', '-'], { input: pub, encoding: 'utf8' }).split(' ')[1];

describe('known_hosts', () => {
  it('finds a device by any of the names on its line, with the fingerprint ssh shows', () => {
    const { entries, problems } = parseKnownHosts(text, file);
    expect(problems).toEqual([]);
    for (const name of ['gateway-1', '198.18.0.10', 'GATEWAY-1']) {
      const { keys } = lookupKnownHosts(entries, name, 22);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ type: 'ssh-ed25519', line: 2, source: file, fingerprint: fingerprintOf(ed) });
    }
  });

  it('tells ports apart: [host]:port only on that port, a bare name only on port 22', () => {
    const { entries } = parseKnownHosts(text);
    expect(lookupKnownHosts(entries, 'gateway-1', 2222).keys.map((k) => k.line)).toEqual([3]);
    expect(lookupKnownHosts(entries, 'gateway-1', 22).keys.map((k) => k.line)).toEqual([2]);
    expect(lookupKnownHosts(entries, 'gateway-1', 2200).keys).toEqual([]);
  });

  it('honours wildcards and a negated name vetoes the line', () => {
    const { entries } = parseKnownHosts(text);
    expect(lookupKnownHosts(entries, 'press-3.plant.example', 22).keys.map((k) => k.line)).toEqual([5]);
    expect(lookupKnownHosts(entries, 'bad.plant.example', 22).keys).toEqual([]);
    expect(lookupKnownHosts(entries, 'plant.example', 22).keys).toEqual([]);
  });

  it('lists @revoked keys apart and never matches a @cert-authority key as a host key', () => {
    const { entries } = parseKnownHosts(text);
    const cam = lookupKnownHosts(entries, 'cam-07', 22);
    expect(cam.keys).toEqual([]);
    expect(cam.revoked.map((k) => k.line)).toEqual([6]);
    expect(lookupKnownHosts(entries, 'cam-100', 22).revoked).toEqual([]); // ? is exactly one character
    expect(entries.find((e) => e.line === 7)?.marker).toBe('cert-authority');
  });

  it('matches the same lines as OpenSSH does', () => {
    const { entries } = parseKnownHosts(text);
    const queries: [string, number][] = [
      ['gateway-1', 22],
      ['gateway-1', 2222],
      ['198.18.0.10', 22],
      ['198.18.0.11', 22],
      ['press-3.plant.example', 22],
      ['bad.plant.example', 22],
      ['cam-07', 22],
      ['cam-100', 22],
      ['nobody', 22],
    ];
    for (const [host, port] of queries) {
      const found = lookupKnownHosts(entries, host, port);
      const ours = [...found.keys, ...found.revoked].map((k) => k.line).sort();
      const name = port === 22 ? host : `[${host}]:${port}`;
      const theirs = opensshFinds(file, name).filter((line) => line !== 7); // CA lines are not host keys
      expect(ours, name).toEqual(theirs);
    }
  });

  it('finds hosts in a file hashed by ssh-keygen -H, on port 22 and on other ports', () => {
    const hashed = join(dir, 'known_hosts_hashed');
    writeFileSync(hashed, `gateway-1,198.18.0.10 ${ed}\n[gateway-1]:2222 ${ecdsa}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'pipe' });
    const { entries, problems } = parseKnownHosts(readFileSync(hashed, 'utf8'));
    expect(problems).toEqual([]);
    expect(entries.every((e) => e.hosts.kind === 'hashed')).toBe(true);
    expect(lookupKnownHosts(entries, 'gateway-1', 22).keys.map((k) => k.type)).toEqual(['ssh-ed25519']);
    expect(lookupKnownHosts(entries, '198.18.0.10', 22).keys.map((k) => k.type)).toEqual(['ssh-ed25519']);
    expect(lookupKnownHosts(entries, 'gateway-1', 2222).keys.map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256']);
    expect(lookupKnownHosts(entries, 'gateway-2', 22).keys).toEqual([]);
  });

  it('skips damaged lines, says which and why, and still reads the rest', () => {
    const [edType, edBase64] = ed.split(' ');
    const damaged = [
      `gateway-1 ${ed}`,
      'only-a-host-name',
      `@trusted gateway-1 ${ed}`,
      `gateway-1 ${edType} ${edBase64!.slice(0, 20)}`,
      `gateway-1 ssh-rsa ${edBase64}`,
      `|1|c2FsdA==|aGFzaA== ${ed}`,
      `gateway-1 ${edType} not*base64`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(damaged, 'damaged');
    expect(entries.map((e) => e.line)).toEqual([1]);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(problems[1]).toEqual({ source: 'damaged', line: 3, reason: 'unknown marker @trusted' });
    expect(problems[3]?.reason).toMatch(/says ssh-rsa but the key inside is ssh-ed25519/);
    expect(problems[4]?.reason).toMatch(/hashed host name/);
  });
});

describe("loading the user's known_hosts", () => {
  afterEach(() => vi.unstubAllEnvs());

  it('reads ~/.ssh/known_hosts and does not mind a missing known_hosts2', async () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'known_hosts'), `gateway-1 ${ed}\n`);
    vi.stubEnv('HOME', home);
    const { entries, problems } = await loadUserKnownHosts();
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.source)).toEqual([join(home, '.ssh', 'known_hosts')]);
  });

  it('works with no known_hosts at all', async () => {
    expect(await loadUserKnownHosts([join(dir, 'none'), join(dir, 'none2')])).toEqual({ entries: [], problems: [] });
  });

  it('reports a known_hosts it cannot read instead of failing', async () => {
    const { problems } = await loadUserKnownHosts([dir, file]);
    expect(problems).toEqual([{ source: dir, line: 0, reason: expect.stringContaining('EISDIR') as string }]);
  });
});
