import { Writable } from 'node:stream';

/** A Writable that keeps at most `cap` bytes and counts the rest, so command output cannot flood the worker. */
export class CappedBuffer extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;

  constructor(private readonly cap: number) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    cb();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
