// Child process for the SIGKILL test: a receiver on a fixed port with a spool; the parent kills it mid-association and starts it again.
// Usage: node --conditions=source --import tsx scp-child.ts <spool-dir> <port>
import { createSpool } from '@pacsflow/spool'
import { startStoreScp } from '../scp/server.js'

const [spoolDir, port] = process.argv.slice(2)
if (spoolDir === undefined || port === undefined) throw new Error('usage: scp-child.ts <spool-dir> <port>')
const spool = await createSpool({ dir: spoolDir })
const scp = await startStoreScp({ aet: 'PACSFLOW', port: Number(port), spool })
process.stdout.write(`READY ${scp.port}\n`)
process.once('SIGTERM', () => void scp.close().then(() => process.exit(0)))
