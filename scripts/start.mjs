// `npm start`: builds the app and opens it in Electron; where no Electron binary exists, says so
// plainly and points to what works without it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const electronDir = join(root, 'node_modules', 'electron');
const pathFile = join(electronDir, 'path.txt');
const binary =
  process.env.ELECTRON_PATH ??
  (existsSync(pathFile) ? join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()) : undefined);

if (!binary || !existsSync(binary)) {
  console.error(`Portwright: no Electron binary on this machine${binary ? ` (looked for ${binary})` : ''}.
The electron package installed, but its binary is downloaded separately and that download is not possible here.

What works without it:
  npx portwright --help        the command-line tool (same core as the app)
  npm run lab                  simulated devices to try it on (Linux, root)

To run the desktop app: on a machine with internet, \`npm install\` fetches the binary; or point
ELECTRON_PATH at an unpacked Electron ${JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version} and run npm start again.`);
  process.exit(1);
}

const build = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const app = spawnSync(binary, [join(root, 'out', 'main', 'index.js')], { cwd: root, stdio: 'inherit' });
process.exit(app.status ?? 0);
