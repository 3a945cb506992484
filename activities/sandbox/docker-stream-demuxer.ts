/** Which output stream a frame of Docker's multiplexed attach stream belongs to. */
export type DockerStreamName = 'stdout' | 'stderr';

/** One frame's payload of Docker's multiplexed attach stream. */
export interface DockerStreamFrame {
  stream: DockerStreamName;
  data: Buffer;
}

const HEADER_BYTES = 8;

/**
 * Splits Docker's multiplexed attach stream (non-TTY exec: 8-byte headers, then the payload) back into stdout and
 * stderr frames, in the order the daemon sent them; chunks may cut frames anywhere.
 */
export class DockerStreamDemuxer {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk read from the socket and returns the frames it completed. */
  push(chunk: Buffer): DockerStreamFrame[] {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: DockerStreamFrame[] = [];
    while (data.length >= HEADER_BYTES) {
      const size = data.readUInt32BE(4);
      if (data.length < HEADER_BYTES + size) break;
      const payload = data.subarray(HEADER_BYTES, HEADER_BYTES + size);
      if (data[0] === 2) frames.push({ stream: 'stderr', data: payload });
      else if (data[0] === 1) frames.push({ stream: 'stdout', data: payload });
      data = data.subarray(HEADER_BYTES + size);
    }
    this.#pending = data;
    return frames;
  }
}
