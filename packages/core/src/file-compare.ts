// Whether two files hold the same bytes, without holding either in memory.
import { open, stat, type FileHandle } from 'node:fs/promises'

const CHUNK = 1024 * 1024

async function readFully(file: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled
}

/**
 * True when both files hold the same bytes: sizes first, the same inode (hard links) at once,
 * then 1 MiB at a time, so a large DICOM instance never sits in memory whole.
 */
export async function sameFileContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)])
  if (sa.size !== sb.size) return false
  if (sa.ino === sb.ino && sa.dev === sb.dev) return true
  const fa = await open(a, 'r')
  try {
    const fb = await open(b, 'r')
    try {
      const ba = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, sa.size)))
      const bb = Buffer.allocUnsafe(ba.length)
      for (let at = 0; at < sa.size; at += ba.length) {
        const [na, nb] = await Promise.all([readFully(fa, ba, at), readFully(fb, bb, at)])
        if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false
      }
      return true
    } finally {
      await fb.close()
    }
  } finally {
    await fa.close()
  }
}
