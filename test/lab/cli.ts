// `npm run lab`: start simulated devices to try Portwright without hardware (Linux, root).
//   npm run lab                      two namespace devices (OpenSSH, Dropbear), until Ctrl-C
//   npm run lab -- --vm              also a QEMU VM device with Debian's kernel (ipvlan, VLANs)
//   npm run lab -- clean             remove runs left by a crashed process
import { Command } from 'commander';
import { cleanStaleLabs, startLab, stopLab, type DeviceSpec } from './index.js';

const program = new Command('lab')
  .description('Simulated embedded devices for Portwright (needs Linux and root).')
  .option('--vm', 'add a QEMU VM device with its own kernel (ipvlan, 802.1Q)')
  .option('--devices <n>', 'number of namespace devices', '2')
  .action(async (opts: { vm?: boolean; devices: string }) => {
    const n = Number(opts.devices);
    if (!Number.isInteger(n) || n < 1 || n > 10) {
      console.error('lab: --devices takes a whole number from 1 to 10');
      process.exit(2);
    }
    const devices: DeviceSpec[] = Array.from({ length: n }, (_, i) => ({
      name: `dev${i + 1}`,
      ssh: i % 2 === 1 ? 'dropbear' : 'openssh',
    }));
    if (opts.vm) devices.push({ name: 'vm1', kind: 'vm' });
    const lab = await startLab({ devices, log: (m) => console.log(m) });
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      console.log(`\nstopping lab ${lab.id}…`);
      stopLab(lab).then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e instanceof Error ? e.message : e);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    console.log(`\nLab ${lab.id} is up. Client key: ${lab.info.clientKey}`);
    console.log(`known_hosts: ${lab.info.knownHostsFile}\n`);
    for (const d of lab.devices) {
      console.log(
        `${d.name}  ${d.kind}/${d.ssh}  ssh -i ${lab.info.clientKey} -p ${d.port} root@${d.host}   (lab address ${d.labAddress})`,
      );
      for (const p of d.peers) console.log(`    ${p.port} -> peer ${p.address} on ${p.subnet} (netns ${p.netns})`);
    }
    console.log('\nPress Ctrl-C to stop and remove everything.');
    setInterval(() => undefined, 1 << 30);
  });

program
  .command('clean')
  .description('remove lab runs whose owning process is gone')
  .action(async () => {
    const cleaned = await cleanStaleLabs();
    console.log(cleaned.length ? `removed: ${cleaned.join(', ')}` : 'nothing to clean');
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
