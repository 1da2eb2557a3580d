import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket as ServerSocket } from 'socket.io';
import { Server } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { WriteCoalescer } from './coalesce-writes';

/** A real socket.io server and client over loopback TCP: what the server's TCP stream is asked to write. */
describe('WriteCoalescer', () => {
  const httpServer = createServer();
  const server = new Server(httpServer, { serveClient: false });
  const coalescer = new WriteCoalescer();
  let url = '';
  const clients: ClientSocket[] = [];

  beforeAll(async () => {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  /** Connects a client; answers the server's side of it and the client. */
  async function connect(transports: string[], coalesce: boolean): Promise<{ server: ServerSocket; client: ClientSocket }> {
    const serverSide = new Promise<ServerSocket>((resolve) => server.once('connection', resolve));
    const client = io(url, { transports, reconnection: false, forceNew: true });
    clients.push(client);
    const socket = await serverSide;
    if (coalesce) coalescer.watch(socket.conn);
    await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
    return { server: socket, client };
  }

  /** Counts the writes the server's TCP stream makes (each a syscall: write or writev). */
  function countWrites(socket: ServerSocket): () => number {
    const stream = (socket.conn.transport as unknown as { socket: { _socket: { _write: () => void; _writev: () => void } } }).socket._socket;
    const write = jest.spyOn(stream, '_write');
    const writev = jest.spyOn(stream, '_writev');
    return () => write.mock.calls.length + writev.mock.calls.length;
  }

  function receive(client: ClientSocket, count: number): Promise<number[]> {
    const got: number[] = [];
    return new Promise((resolve) =>
      client.on('n', (n: number) => {
        got.push(n);
        if (got.length === count) resolve(got);
      }),
    );
  }

  /** Five frames emitted to one socket in one turn: they arrive in order; answers the server stream's writes. */
  async function writesOfFiveFramesInOneTurn(coalesce: boolean): Promise<number> {
    const { server: socket, client } = await connect(['websocket'], coalesce);
    const writes = countWrites(socket);
    const got = receive(client, 5);
    for (let n = 1; n <= 5; n += 1) socket.emit('n', n);
    expect(await got).toEqual([1, 2, 3, 4, 5]);
    return writes();
  }

  it('sends the frames emitted to one socket in one turn with one write, in order', async () => {
    expect(await writesOfFiveFramesInOneTurn(true)).toBe(1);
  });

  it('writes frame by frame without it (what it saves)', async () => {
    expect(await writesOfFiveFramesInOneTurn(false)).toBe(5);
  });

  it('leaves nothing corked: frames of later turns, and of several sockets in one turn, all arrive', async () => {
    const a = await connect(['websocket'], true);
    const b = await connect(['websocket'], true);
    const gotA = receive(a.client, 6);
    const gotB = receive(b.client, 3);
    for (let n = 1; n <= 3; n += 1) {
      a.server.emit('n', n);
      b.server.emit('n', n);
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (let n = 4; n <= 6; n += 1) a.server.emit('n', n);
    expect(await gotA).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await gotB).toEqual([1, 2, 3]);
  });

  it('passes a long-polling connection through untouched', async () => {
    const { server: socket, client } = await connect(['polling'], true);
    const got = receive(client, 3);
    for (let n = 1; n <= 3; n += 1) socket.emit('n', n);
    expect(await got).toEqual([1, 2, 3]);
    // Closed here, while the server answers: a long-polling client left open polls on after the test.
    const gone = new Promise((resolve) => socket.once('disconnect', resolve));
    client.disconnect();
    await gone;
  });
});
