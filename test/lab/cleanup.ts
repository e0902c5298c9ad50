// Teardown that cannot be skipped: a shell script per lab run, run by stop() or, if the process
// that owns the lab dies (even by SIGKILL), by a watchdog that outlives it.
import { appendFile, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetached } from './exec.js';

export function cleanupScript(id: string, dir: string): string {
  return `#!/bin/sh
# Removes everything lab run ${id} made. Safe to run more than once.
ID='${id}'
DIR='${dir}'
pids() { cat "$DIR/pids" 2>/dev/null | grep -v "^$$\\$" ; }
for p in $(pids); do kill -9 "$p" 2>/dev/null; done
# A killed device init takes its whole PID namespace (dockerd, containers) with it; wait until
# they are gone so their mounts, cgroups and namespaces are free.
i=0
while [ $i -lt 100 ]; do
  alive=0
  for p in $(pids); do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1; i=$((i+1))
done
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ID-"); do ip netns delete "$ns" 2>/dev/null; done
for try in 1 2 3 4 5 6 7 8 9 10; do
  left=0
  for d in /sys/fs/cgroup/*/"$ID"-*; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || left=1
  done
  [ $left = 0 ] && break
  sleep 0.3
done
rm -rf "$DIR"
`;
}

/** Records a process for teardown to kill. */
export async function trackPid(dir: string, pid: number): Promise<void> {
  await appendFile(join(dir, 'pids'), `${pid}\n`);
}

/** Writes the cleanup script and starts the watchdog that runs it if `ownerPid` dies. */
export async function armCleanup(id: string, dir: string, ownerPid: number): Promise<void> {
  const script = join(dir, 'cleanup.sh');
  await writeFile(script, cleanupScript(id, dir), { mode: 0o755 });
  const log = openSync(join(dir, 'watchdog.log'), 'a');
  try {
    const watchdog = spawnDetached(
      [
        'sh',
        '-c',
        `while kill -0 ${ownerPid} 2>/dev/null && [ -e '${script}' ]; do sleep 1; done; [ -e '${script}' ] && exec sh '${script}'`,
      ],
      log,
    );
    await trackPid(dir, watchdog);
  } finally {
    closeSync(log);
  }
}
