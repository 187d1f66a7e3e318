// How an accepted connection's bytes reach the receiver: read into one buffer per connection that Node reuses, or Node's stream reads.
import { Socket, type SocketConstructorOpts } from 'node:net'

/** Takes each chunk as it is read. The chunk is lent: once this returns, the next read may overwrite it. */
export type ChunkReader = (chunk: Buffer) => void

/** An accepted connection, and the way to its incoming bytes. */
export interface IncomingConnection {
  /** The socket to write to, end and destroy (not to read from: its bytes go to the reader). */
  readonly socket: Socket
  /** True when the bytes are read into one reused buffer; false for Node's stream reads (TLS, or a Node that cannot adopt the handle). */
  readonly reusesBuffer: boolean
  /** Starts the reading: every chunk goes to `reader`, in order. Call once. */
  startReading(reader: ChunkReader): void
}

/** The read buffer of an adopted connection: one receive of up to this many bytes per callback. */
export const READ_BUFFER_BYTES = 256 * 1024

/**
 * Node's own reads, for a socket that is reading already (TLS) or was accepted paused: a fresh
 * buffer per read, delivered as 'data' events.
 */
export function streamedConnection(socket: Socket): IncomingConnection {
  return {
    socket,
    reusesBuffer: false,
    startReading(reader) {
      socket.on('data', reader)
      socket.resume()
    },
  }
}

/** What `adoptConnection` needs of Node's internals: the accepted socket's libuv stream handle. */
interface AcceptedInternals {
  _handle?: { readStart?: unknown; useUserBuffer?: unknown } | null
}

/**
 * Moves a plain TCP connection, accepted paused (`pauseOnConnect`), onto a socket that reads into
 * one buffer of its own (the documented `onread` option of `net.Socket`), so that receiving
 * allocates nothing per read.
 *
 * Why: Node reads a server's sockets into a fresh 64 KiB buffer per read, and an accepted socket
 * cannot be given `onread` (the server builds it). Those buffers are memory outside V8's heap
 * that only a collection frees; a receiver allocates little else, so its collections are started
 * by that external memory, and they were full mark-compacts: 10-16 per 400 objects of 620 KB,
 * their concurrent marking a quarter to a third of the receiver's CPU (perf). A loopback toy that
 * reads 600 MB took 3-4x less CPU with a reused buffer, and ran no full collection.
 *
 * How: Node's `net.Socket` takes an existing handle (`handle`, the option Node's own server,
 * cluster and child_process use to build sockets around one); the accepted socket gives it up and
 * stays, without it, until the connection closes, so the server still counts the connection
 * (`maxConnections`, `close()`). Where the handle is not what this expects (another runtime, a
 * future Node), the connection keeps Node's stream reads: slower, never wrong.
 */
export function adoptConnection(accepted: Socket, bufferBytes = READ_BUFFER_BYTES): IncomingConnection {
  const internals = accepted as unknown as AcceptedInternals
  const handle = internals._handle
  if (handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function' || typeof handle.readStart !== 'function') {
    return streamedConnection(accepted)
  }
  let reader: ChunkReader | undefined
  let early: Buffer[] = []
  const onread = {
    buffer: Buffer.allocUnsafe(bufferBytes),
    callback: (size: number, buffer: Uint8Array): boolean => {
      const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, size)
      // The socket is created paused and startReading resumes it; if anything resumes it sooner, what
      // it reads is kept (copied: the buffer is reused) and handed over first.
      if (reader === undefined) early.push(Buffer.from(chunk))
      else reader(chunk)
      return true
    },
  }
  let socket: Socket
  internals._handle = null
  try {
    // `handle` and `pauseOnCreate` are what Node's server passes for an accepted connection.
    const options = { handle, readable: true, writable: true, pauseOnCreate: true, onread } as unknown as SocketConstructorOpts
    socket = new Socket(options)
  } catch {
    internals._handle = handle
    return streamedConnection(accepted)
  }
  socket.once('close', () => accepted.destroy())
  return {
    socket,
    reusesBuffer: true,
    startReading(read) {
      reader = read
      for (const chunk of early) read(chunk)
      early = []
      socket.resume()
    },
  }
}
