/**
 * A process started by `npm start`'s supervisor (tools/supervisor.ts) gets an IPC channel from it
 * and nothing else uses that channel: its only purpose is to close. The kernel closes it when the
 * supervisor ends in any way, SIGKILL included (which no handler of the supervisor can see), so a
 * service that stops on `disconnect` is never left running without its supervisor.
 *
 * Without a channel (Kubernetes, docker, a test spawning the service without one) this does nothing.
 */
export function stopWhenSupervisorGone(log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): void {
  const channel = process.channel;
  if (!channel) return;
  process.once('disconnect', () => {
    // Our stdout and stderr were pipes to the supervisor: a write to them now fails with EPIPE,
    // which would end the process before its graceful shutdown has finished.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    log('the supervisor is gone (its channel closed): stopping as on SIGTERM');
    // The same path as a SIGTERM: the messages in hand finish and commit, then the process exits.
    process.kill(process.pid, 'SIGTERM');
  });
  // The channel must not keep the process alive by itself (Node refs it for a 'disconnect' listener).
  channel.unref();
}
