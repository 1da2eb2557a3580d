/**
 * A service run from dist as a child process on a fixed port, so that it can be killed and started
 * again at the same URL (others call it there: orchestration calls the wallet, the PSP simulator
 * posts webhooks to orchestration).
 */
import type { ChildProcess } from 'node:child_process';
import { freePort, spawnFromDist, stopChild } from './e2e-kit';

export class ServiceProcess {
  private constructor(
    readonly name: string,
    readonly env: Record<string, string>,
    public process: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts `dist/apps/<name>` with `env` (PORT chosen when it is unset or 0) and waits until it is ready. */
  static async start(name: string, env: Record<string, string>): Promise<ServiceProcess> {
    const fixed = { ...env, PORT: env.PORT && env.PORT !== '0' ? env.PORT : String(await freePort()) };
    const started = await spawnFromDist(name, fixed);
    return new ServiceProcess(name, fixed, started.process, started.url);
  }

  /** Adopts a process started elsewhere with `env` (its PORT fixed). */
  static adopt(name: string, env: Record<string, string>, process: ChildProcess, url: string): ServiceProcess {
    return new ServiceProcess(name, env, process, url);
  }

  /** SIGKILL: no shutdown hook runs, in-flight work is lost mid-way, as in a crash. */
  kill(): Promise<void> {
    return stopChild(this.process, 'SIGKILL');
  }

  /** Starts it again with the same environment and port, and waits until it is ready. */
  async restart(): Promise<void> {
    this.process = (await spawnFromDist(this.name, this.env)).process;
  }

  stop(): Promise<void> {
    return stopChild(this.process, 'SIGTERM');
  }
}
