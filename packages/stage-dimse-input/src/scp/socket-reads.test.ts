import { randomBytes } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { adoptConnection, streamedConnection, type IncomingConnection } from './socket-reads.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** A loopback server that adopts what it accepts, as the receiver does. */
async function adoptingServer(onConnection: (incoming: IncomingConnection) => void, maxConnections?: number): Promise<{ server: Server; port: number }> {
  const server = createServer({ pauseOnConnect: true }, (socket) => onConnection(adoptConnection(socket, 4096)))
  if (maxConnections !== undefined) server.maxConnections = maxConnections
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 }
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))))
}

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

describe('adoptConnection', () => {
  it('reads a TCP connection into one reused buffer: every byte, in order, and answers go out on its socket', async () => {
    const sent = randomBytes(3 * 1024 * 1024 + 17)
    const received: Buffer[] = []
    const memories = new Set<ArrayBufferLike>()
    let adopted: IncomingConnection | undefined
    const { port } = await adoptingServer((incoming) => {
      adopted = incoming
      let total = 0
      incoming.startReading((chunk) => {
        memories.add(chunk.buffer)
        // Lent: copied here, as the receiver's consumers copy.
        received.push(Buffer.from(chunk))
        total += chunk.length
        if (total === sent.length) incoming.socket.end('done')
      })
    })
    const client = await opened(port)
    const answer = new Promise<string>((resolve) => {
      let text = ''
      client.on('data', (chunk: Buffer) => (text += chunk.toString()))
      client.on('end', () => resolve(text))
    })
    client.end(sent)
    expect(await answer).toBe('done')
    expect(adopted?.reusesBuffer).toBe(true)
    expect(Buffer.compare(Buffer.concat(received), sent)).toBe(0)
    // 3 MB in chunks of at most 4 KiB, all of them in the same memory.
    expect(received.length).toBeGreaterThan(700)
    expect(memories.size).toBe(1)
    client.destroy()
  })

  it('keeps, in order, what is read before reading starts, if something resumes the socket sooner', async () => {
    let adopted: IncomingConnection | undefined
    const { port } = await adoptingServer((incoming) => {
      adopted = incoming
      incoming.socket.resume()
    })
    const client = await opened(port)
    client.write('first ')
    await expect.poll(() => adopted?.socket.bytesRead, { timeout: 2000, interval: 10 }).toBe(6)
    const chunks: string[] = []
    adopted!.startReading((chunk) => chunks.push(chunk.toString()))
    client.write('second')
    await expect.poll(() => chunks.join(''), { timeout: 2000, interval: 10 }).toBe('first second')
    client.destroy()
  })

  it('leaves the server counting the connection until it closes (maxConnections, getConnections)', async () => {
    const adopted: IncomingConnection[] = []
    const { server, port } = await adoptingServer((incoming) => {
      adopted.push(incoming)
      incoming.startReading(() => {})
    }, 1)
    const first = await opened(port)
    await expect.poll(() => adopted.length, { timeout: 2000, interval: 10 }).toBe(1)
    expect(await connections(server)).toBe(1)
    // A second connection is over the limit: the server drops it, the receiver never sees it.
    const second = await opened(port)
    await new Promise<void>((resolve) => second.once('close', () => resolve()))
    expect(adopted.length).toBe(1)
    first.destroy()
    await expect.poll(() => connections(server), { timeout: 2000, interval: 10 }).toBe(0)
    const third = await opened(port)
    await expect.poll(() => adopted.length, { timeout: 2000, interval: 10 }).toBe(2)
    third.destroy()
  })

  it('keeps Node stream reads for a socket whose handle it cannot adopt', async () => {
    const stream = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() })
    const incoming = adoptConnection(stream as unknown as Socket)
    expect(incoming.reusesBuffer).toBe(false)
    expect(incoming.socket).toBe(stream)
    const chunks: string[] = []
    incoming.startReading((chunk) => chunks.push(chunk.toString()))
    stream.push(Buffer.from('a'))
    stream.push(Buffer.from('b'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(chunks.join('')).toBe('ab')
  })
})

describe('streamedConnection', () => {
  it('delivers a paused socket once reading starts', async () => {
    const stream = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() })
    stream.pause()
    stream.push(Buffer.from('early'))
    const chunks: string[] = []
    streamedConnection(stream as unknown as Socket).startReading((chunk) => chunks.push(chunk.toString()))
    await new Promise((resolve) => setImmediate(resolve))
    expect(chunks).toEqual(['early'])
  })
})
