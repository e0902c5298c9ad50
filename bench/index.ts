// `npm run bench`: Docker API calls to a lab device over a slowed management link, through our
// one-connection tunnel and through the alternatives, side by side in one run (Linux, root); then the
// renderer (bench/renderer.ts). BENCH_ONLY=lab or BENCH_ONLY=renderer runs just one part.
import { fileURLToPath } from 'node:url';
import { labPrerequisites, startLab, stopLab, type Lab } from '../test/lab/index.js';
import type { WorkerInput, WorkerOutput } from './lab-worker.js';
import { run } from './proc.js';
import { runRendererBench } from './renderer.js';

const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 40);
const N = Number(process.env.BENCH_CALLS ?? 50);
const ONLY = process.env.BENCH_ONLY ?? '';
const WORKER = fileURLToPath(new URL('./lab-worker.ts', import.meta.url));

async function main(): Promise<void> {
  if (!['', 'lab', 'renderer'].includes(ONLY)) throw new Error(`BENCH_ONLY is lab or renderer, not "${ONLY}"`);
  if (ONLY !== 'renderer') await benchLab();
  if (ONLY !== 'lab') await runRendererBench();
}

async function benchLab(): Promise<void> {
  const missing = await labPrerequisites(false);
  if (missing.length) throw new Error(`the bench needs the lab: ${missing.join(', ')}`);
  const lab: Lab = await startLab({ devices: [{ name: 'bench' }] });
  try {
    const d = lab.device('bench');
    await lab.setDelay('bench', RTT_MS);
    const input: WorkerInput = {
      address: d.labAddress,
      hostKeyLine: `${d.hostKey.type} ${d.hostKey.base64}`,
      hostKeyFingerprint: d.hostKey.fingerprint,
      clientKey: lab.info.clientKey,
      calls: N,
    };
    const { rtt, rows, steps, odFailed, oursSeq, oursPar, oursInventory, cliSeq, odSeq } = JSON.parse(
      await run(
        'nsenter',
        [`--net=/run/netns/${lab.info.hubNetns}`, '--', process.execPath, '--import', 'tsx', WORKER],
        process.env,
        JSON.stringify(input),
      ),
    ) as WorkerOutput;

    const fmt = (ms: number | undefined): string =>
      ms === undefined ? '-' : `${ms.toFixed(1)} ms (${(ms / rtt).toFixed(1)} RTT)`;
    const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(b / a).toFixed(1)}×` : '-');
    console.log(
      `\nmanagement link: set ${RTT_MS} ms round trip, measured ${rtt.toFixed(1)} ms (median of 10 echoes)\n`,
    );
    const header = [
      '',
      'ours (one SSH connection)',
      'docker -H ssh://',
      "dockerode protocol 'ssh'",
      'vs docker CLI',
      'vs dockerode ssh',
    ];
    const body = rows.map((r) => [
      r.what,
      fmt(r.ours),
      fmt(r.dockerCli),
      fmt(r.dockerodeSsh),
      ratio(r.ours, r.dockerCli),
      ratio(r.ours, r.dockerodeSsh),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
    for (const line of [header, ...body]) console.log(line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
    console.log(
      `\ntargets: a sequential call ≤ 1.2 RTT (${(oursSeq / N / rtt).toFixed(2)}), ${N} parallel ≤ 3 RTT (${(oursPar / rtt).toFixed(1)}), ` +
        `connect + inventory ≤ 10 RTT (${(oursInventory / rtt).toFixed(1)}); ≥ 15× faster per call than both alternatives ` +
        `(${ratio(oursSeq, cliSeq)}, ${ratio(oursSeq, odSeq)})`,
    );
    console.log(
      `\nours, connect + inventory, step by step (RTT from the start, TCP connect included):\n` +
        steps.map(([what, ms]) => `  ${(ms / rtt).toFixed(1).padStart(5)} RTT  ${what}`).join('\n'),
    );
    console.log(
      '\n(docker CLI and dockerode-ssh sequential figures are averaged over fewer calls: each is a full SSH connection;',
    );
    console.log(
      " their inventory runs the same ports script over `ssh`, alongside; ours and dockerode's read the engine version from /_ping's headers)",
    );
    if (odFailed) console.log(`dockerode 'ssh': ${odFailed} of ${N} parallel calls failed (connection reset)`);
  } finally {
    await stopLab(lab);
  }
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
