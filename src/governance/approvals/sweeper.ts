/**
 * The approval inbox's periodic work, driven by stored state rather than in-memory timers per request: expire
 * overdue requests, deliver due notifications, hand decisions to runtimes. Runs once at start (so whatever fell
 * due while the platform was down is handled at once) and then every `intervalMs`. A pass never overlaps the
 * previous one; a failing task is logged and retried on the next pass.
 */
import type { Logger } from "../../observability/logger.js";

/** One named piece of periodic work. */
export interface SweepTask {
  name: string;
  run(): Promise<unknown>;
}

export class ApprovalSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly tasks: readonly SweepTask[],
    private readonly intervalMs: number,
    private readonly logger: Pick<Logger, "warn">,
  ) {}

  /** Runs a first pass now and schedules the next ones. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.sweep();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass over every task (joins a pass in progress). */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      for (const task of this.tasks) {
        try {
          await task.run();
        } catch (error) {
          this.logger.warn({ err: error, task: task.name }, "approval sweep task failed");
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops scheduling and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
