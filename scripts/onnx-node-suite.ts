/**
 * Run ONNX's backend node test cases (Debian's libonnx-testdata) for every supported op and write
 * the passing list to test/fixtures/onnx-node-passing.txt (the test suite checks that list).
 * Usage: npx tsx scripts/onnx-node-suite.ts [--backend cpu|wasm] [--write] [filter]
 */
import { writeFileSync } from 'node:fs'
import { initBackend } from '../src/engine/node/backends.ts'
import { HAVE_NODE_CASES, NODE_CASES_DIR, runCase, supportedCases } from '../test/helpers/onnx-node-cases.ts'

const args = process.argv.slice(2)
const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'cpu'
const write = args.includes('--write')
const filter = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--backend')[0]
if (!HAVE_NODE_CASES) { console.error(`${NODE_CASES_DIR} not found: apt-get install libonnx-testdata`); process.exit(1) }
await initBackend(backend as 'cpu')
const cases = supportedCases().filter((c) => !filter || c.includes(filter))
const results = cases.map(runCase)
for (const r of results) if (r.status !== 'pass') console.log(`${r.status.padEnd(11)} ${r.name}: ${r.detail}`)
const pass = results.filter((r) => r.status === 'pass')
console.log(`${pass.length} passed, ${results.filter((r) => r.status === 'fail').length} failed, ${results.filter((r) => r.status === 'unsupported').length} unsupported variants, of ${results.length} cases of supported ops (${backend})`)
if (write) writeFileSync('test/fixtures/onnx-node-passing.txt', pass.map((r) => r.name).join('\n') + '\n')
