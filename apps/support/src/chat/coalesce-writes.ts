import type { Socket } from 'socket.io';

/** engine.io's connection under a socket.io socket. */
type EngineSocket = Socket['conn'];

/** What of a TCP stream coalescing needs: Node's `Writable` corking. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

interface WebSocketTransport {
  name: string;
  /** engine.io's own flag: false while a write is in flight, packets meanwhile wait in the connection's buffer. */
  writable: boolean;
  socket?: { _socket?: Partial<Corkable> };
}

/**
 * The connection's WebSocket transport and the TCP stream under it (ws keeps it as `_socket`, as
 * engine.io itself reads it); undefined for another transport or a ws without it, and then nothing
 * is coalesced: frames are written one by one, as without this.
 */
function webSocketOf(conn: EngineSocket): { transport: WebSocketTransport; stream: Corkable } | undefined {
  const transport = conn.transport as unknown as WebSocketTransport | undefined;
  if (transport?.name !== 'websocket') return undefined;
  const stream = transport.socket?._socket;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function' ? { transport, stream: stream as Corkable } : undefined;
}

/**
 * Frames written to one WebSocket in the same turn of the event loop leave in one write.
 *
 * ws writes every frame with its own `writev` (header and payload): under a flood that syscall, with
 * loopback TCP's wake-up of the reader, was a third of a support instance's CPU (issue 18), while one
 * notification's dispatch, or one batch's acknowledgements, often sends several frames to the same
 * socket (an agent's conversations; an acknowledgement and the echo of the message). Two parts:
 * - **A flush is one write.** engine.io flushes a connection's buffered packets together (its
 *   `flush` event, the transport's `send`, then its `drain` event, synchronously): the stream is
 *   corked from `flush` to `drain`, so the frames of one flush go out in one write.
 * - **A turn is one flush.** engine.io would send a connection's first packet at once and buffer the
 *   rest of the turn behind that write. At a turn's first packet the transport is held (engine.io's
 *   own `writable` flag set false, as during a write), and released with one flush once the turn's
 *   callbacks and microtasks are done (`setImmediate`): nothing waits for a timer or for I/O. A
 *   transport that is already writing is left to engine.io (its buffered packets go at its drain,
 *   in one write by the first part). socket.io drops `volatile` packets while a transport is not
 *   writable: the chat sends none.
 */
export class WriteCoalescer {
  private readonly held = new Map<EngineSocket, WebSocketTransport>();
  private readonly watched = new WeakSet<EngineSocket>();
  private readonly release = (): void => {
    const held = [...this.held];
    this.held.clear();
    for (const [conn, transport] of held) {
      // Another transport (an upgrade) or a closed connection: engine.io flushes, or drops, on its own.
      if (conn.transport !== (transport as unknown) || conn.readyState === 'closed') continue;
      transport.writable = true;
      // What the transport's own `ready` event does after a write (engine.io types flush as private).
      (conn as unknown as { flush(): void }).flush();
    }
  };

  /** Coalesces the frames of this connection from now on (once per connection, whatever its namespaces). */
  watch(conn: EngineSocket): void {
    if (this.watched.has(conn)) return;
    this.watched.add(conn);
    let corked: Corkable | undefined;
    conn.on('flush', () => {
      corked = webSocketOf(conn)?.stream;
      corked?.cork();
    });
    conn.on('drain', () => {
      const stream = corked;
      corked = undefined;
      stream?.uncork();
    });
    conn.on('packetCreate', () => {
      if (this.held.has(conn)) return;
      const ws = webSocketOf(conn);
      if (!ws?.transport.writable) return;
      ws.transport.writable = false;
      this.held.set(conn, ws.transport);
      if (this.held.size === 1) setImmediate(this.release);
    });
  }
}
