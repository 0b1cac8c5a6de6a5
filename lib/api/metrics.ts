/**
 * The nine `/metrics` fields (docs/camera-alarm.md §8.7), computed for a Node-RED process.
 * docs/camera-alarm.md §8.7 describes two processes (main + detection); in Node-RED both live in one
 * process, so the fields mean:
 *
 * | field               | here                                                                 |
 * |---------------------|----------------------------------------------------------------------|
 * | `timeStamp`         | unix seconds (float) of the sample                                  |
 * | `sysCpuPercent`     | CPU % (user+system, all threads) of the Node-RED process since the previous sample; the first sample is 0 (psutil semantics) |
 * | `sysMemPercent`     | RSS of the Node-RED process as a % of total RAM                     |
 * | `capCpuPercent`     | the detector's work: time spent processing frames since the previous sample, as a % of the elapsed time (sum of the motion node's per-frame durations) |
 * | `capMemPercent`     | native/Buffer memory (`process.memoryUsage().external`: frames, sharp/OpenCV images) as a % of total RAM |
 * | `socketConnections` | inet sockets (TCP/UDP, listening included) held by the process (Linux: /proc; elsewhere the API's own connections) |
 * | `loopAvgS/MaxS/MinS`| mean/max/min per-frame processing time of the detector since the previous sample; 0.0 when there was none |
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import type { DetectorMetrics, SystemMetrics } from '../system/types';

export type { SystemMetrics };

export interface MetricsSource {
  /** Fold in one detector report (the motion node publishes about 1 Hz). */
  note(m: DetectorMetrics): void;
  /** Produce the nine fields for the span since the previous sample. */
  sample(nowMs: number): Promise<SystemMetrics>;
}

/** Count inet sockets of this process via /proc (Linux). Undefined when /proc is unavailable. */
export async function countInetSockets(): Promise<number | undefined> {
  try {
    const inodes = new Set<string>();
    for (const f of ['tcp', 'tcp6', 'udp', 'udp6']) {
      let text: string;
      try {
        text = await fsp.readFile(`/proc/self/net/${f}`, 'utf8');
      } catch {
        continue;
      }
      const lines = text.split('\n');
      for (let i = 1; i < lines.length; i++) {
        const cols = lines[i].trim().split(/\s+/);
        if (cols.length > 9 && cols[9] !== '0') inodes.add(cols[9]);
      }
    }
    const fds = await fsp.readdir('/proc/self/fd');
    let n = 0;
    await Promise.all(
      fds.map(async (fd) => {
        try {
          const link = await fsp.readlink(`/proc/self/fd/${fd}`);
          const m = /^socket:\[(\d+)\]$/.exec(link);
          if (m && inodes.has(m[1])) n++;
        } catch {
          // fd closed meanwhile
        }
      }),
    );
    return n;
  } catch {
    return undefined;
  }
}

export interface ProcessMetricsOptions {
  /** Fallback socket count when /proc is not available. */
  fallbackSockets?: () => number;
  /** Override the socket counter (tests). */
  countSockets?: () => Promise<number | undefined>;
}

/** Metrics of the running Node-RED process plus the detector reports folded in. */
export class ProcessMetrics implements MetricsSource {
  private lastCpu?: NodeJS.CpuUsage;
  private lastHr?: bigint;
  private busyS = 0;
  private frames = 0;
  private max = 0;
  private min = Infinity;
  private readonly opts: ProcessMetricsOptions;

  constructor(opts: ProcessMetricsOptions = {}) {
    this.opts = opts;
  }

  note(m: DetectorMetrics): void {
    const frames = Number.isFinite(m.frames) && m.frames > 0 ? m.frames : 0;
    if (frames === 0) return;
    this.busyS += (Number(m.loopAvgS) || 0) * frames;
    this.frames += frames;
    this.max = Math.max(this.max, Number(m.loopMaxS) || 0);
    this.min = Math.min(this.min, Number(m.loopMinS) || 0);
  }

  async sample(nowMs: number): Promise<SystemMetrics> {
    const hr = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let sysCpu = 0;
    let capCpu = 0;
    if (this.lastCpu && this.lastHr !== undefined) {
      const wallUs = Number(hr - this.lastHr) / 1000;
      if (wallUs > 0) {
        const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
        sysCpu = (usedUs / wallUs) * 100;
        capCpu = ((this.busyS * 1e6) / wallUs) * 100;
      }
    }
    this.lastCpu = cpu;
    this.lastHr = hr;
    const mem = process.memoryUsage();
    const total = os.totalmem();
    const counter = this.opts.countSockets ?? countInetSockets;
    let sockets = await counter();
    if (sockets === undefined) sockets = this.opts.fallbackSockets ? this.opts.fallbackSockets() : 0;
    const out: SystemMetrics = {
      timeStamp: nowMs / 1000,
      sysCpuPercent: round(sysCpu),
      sysMemPercent: (mem.rss / total) * 100,
      capCpuPercent: round(capCpu),
      capMemPercent: (mem.external / total) * 100,
      socketConnections: sockets,
      loopAvgS: this.frames > 0 ? this.busyS / this.frames : 0.0,
      loopMaxS: this.frames > 0 ? this.max : 0.0,
      loopMinS: this.frames > 0 ? this.min : 0.0,
    };
    this.busyS = 0;
    this.frames = 0;
    this.max = 0;
    this.min = Infinity;
    return out;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
