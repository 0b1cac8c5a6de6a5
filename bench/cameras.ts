/**
 * `npm run bench:cameras` (or `node dist/bench/cameras.js`): how many cameras one machine
 * watches — the whole path, not one frame.
 *
 * camera-sim (a child process) serves N concurrent 640×480 MJPEG streams at 15 fps (~48 KiB
 * frames, each part built once and written to every client, clients spread over the frame
 * interval). For each N in the steps:
 *
 * - Vigil: a fresh child process embeds a real Node-RED runtime (`RED.init`/`RED.start`, the
 *   package loaded from a user directory like any installed module) running N copies of
 *   vigil-system → vigil-camera (MJPEG, 15 fps cap) → vigil-motion (default settings, 2
 *   detections/s, `engine: auto`) → vigil-alarm. Frames and detection seconds are counted
 *   with a Node-RED `onReceive` hook (no extra nodes, no message copies); the event-loop delay
 *   with `monitorEventLoopDelay`; CPU with `process.cpuUsage()` (every thread: libuv's pool,
 *   workers) plus Node-RED's child processes (the OpenCV engine's worker processes) from
 *   /proc, and memory as RSS plus the children's PSS at the end.
 * - The reference's way (skipped with a note without Debian's python3-opencv): N Python
 *   processes, each reading its stream with OpenCV `VideoCapture` and doing the reference's
 *   per-frame work (docs/camera-alarm.md §2.2: every frame decoded, resized to 640 wide,
 *   grey, JPEG-encoded for the video stream; detection at `processing.fps` with the
 *   reference's throttle). CPU from /proc (utime+stime), memory as PSS summed over the
 *   processes (shared libraries counted once).
 *
 * "Keeps up" = every camera ≥ 14 fps received, no detection second late (more than 0.2 s after
 * its due time: a gap of more than 1.2 s after the previous one for Vigil, whose seconds are 1 s
 * apart; 1.27 s for the reference, whose throttle makes them 1.07 s apart at 15 fps) or missing,
 * and (Vigil) event-loop p99 ≤ 20 ms, over the
 * measured window (BENCH_SECONDS, default 60, after a warm-up). Stepping stops at the first N
 * that does not keep up. Cameras per core = N / (CPU % / 100) at the largest N kept.
 *
 * Environment: BENCH_SECONDS (window per step), BENCH_STEPS (e.g. "1,8,16"), BENCH_SIDES
 * ("vigil", "python" or both), BENCH_CPU_PROF (a folder: the Vigil children run with
 * --cpu-prof there), BENCH_NODE_FLAGS (more Node flags for the Vigil children, e.g. "--trace-gc").
 * Loopback only.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { DEFAULT_MOTION_SETTINGS } from '../lib/motion/detector';
import { env } from '../test/helpers/nodered-env';
import { embedNodeRed } from './lib/embedded-red';

const ROOT = path.resolve(__dirname, '..', '..');
const SECONDS = Math.max(5, Number(process.env.BENCH_SECONDS) || 60);
const STEPS = (process.env.BENCH_STEPS ?? '1,8,16,32,48,64,96,128')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SIDES = (process.env.BENCH_SIDES ?? 'vigil,python').split(',').map((s) => s.trim());
const CAMERA_FPS = 15;
const DETECT_FPS = 2;
/** Keeps-up rule. */
const MIN_FPS = 14;
/** Vigil's detection seconds are 1 s apart; one is late when it comes more than 0.2 s after that. */
const MAX_GAP_S = 1.2;
/** The reference detects when more than 1/fps s passed: every 8th frame at 15 fps, seconds 16/15 s apart. */
const PY_CADENCE_S = (2 * Math.ceil(CAMERA_FPS / DETECT_FPS + 1e-9)) / CAMERA_FPS;
const MAX_LOOP_P99_MS = 20;

interface StepResult {
  side: 'vigil' | 'python';
  n: number;
  /** Frames received per camera per second: the slowest camera and the mean. */
  fpsMin: number;
  fpsAvg: number;
  /** Detection seconds late (more than 0.2 s after due) and missing, summed over the cameras. */
  late: number;
  missing: number;
  loopP50Ms?: number;
  loopP99Ms?: number;
  /** Vigil: event-loop utilisation (share of the window the main thread was busy) and GC pauses. */
  elu?: number;
  workersMb?: number;
  maxGapMs?: number;
  maxLatencyMs?: number;
  jobAvgMs?: number;
  jobMaxMs?: number;
  gcMs?: number;
  gcMaxMs?: number;
  /** CPU over the window, % of one core. */
  cpuPct: number;
  /** Memory at the end: RSS (Vigil, one process) or summed PSS (Python). */
  memMb: number;
  engine?: string;
  keepsUp: boolean;
  why: string;
}

/** Counts kept per camera over the window, shared by both sides' reports. */
interface CameraCounts {
  frames: number;
  seconds: number;
  late: number;
}

function verdict(r: Omit<StepResult, 'keepsUp' | 'why'>): { keepsUp: boolean; why: string } {
  const why: string[] = [];
  if (r.fpsMin < MIN_FPS) why.push(`slowest camera ${r.fpsMin.toFixed(1)} fps`);
  if (r.late > 0) why.push(`${r.late} late`);
  if (r.missing > 0) why.push(`${r.missing} missing`);
  if (r.loopP99Ms !== undefined && r.loopP99Ms > MAX_LOOP_P99_MS) why.push(`loop p99 ${r.loopP99Ms.toFixed(1)} ms`);
  return { keepsUp: why.length === 0, why: why.join(', ') || 'ok' };
}

/** Sum the per-camera counts into a step's figures. */
function summarise(counts: CameraCounts[], seconds: number, expectedSeconds: number): Pick<StepResult, 'fpsMin' | 'fpsAvg' | 'late' | 'missing'> {
  const fps = counts.map((c) => c.frames / seconds);
  return {
    fpsMin: Math.min(...fps),
    fpsAvg: fps.reduce((a, b) => a + b, 0) / Math.max(1, fps.length),
    late: counts.reduce((a, c) => a + c.late, 0),
    missing: counts.reduce((a, c) => a + Math.max(0, expectedSeconds - c.seconds), 0),
  };
}

// ------------------------------------------------------------------ camera-sim child

interface SimChild {
  url: string;
  child: ChildProcess;
}

async function startSim(): Promise<SimChild> {
  const bin = path.join(ROOT, 'dist', 'bin', 'camera-sim.js');
  const child = spawn(process.execPath, [bin, '--port', '0', '--clip', 'moving', '--detail', '12', '--quality', '80', '--fps', String(CAMERA_FPS), '--phases', '8'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('camera-sim did not start within 30 s')), 30_000);
    rl.on('line', (line) => {
      const m = / on (http:\/\/[^ ]+)\/stream\.mjpg/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`camera-sim exited (${code})`)));
  });
  return { url: `${url}/stream.mjpg`, child };
}


// ------------------------------------------------------------------ Vigil side (child process)

/** The flow for N cameras: system → camera → motion → alarm, per camera. */
function vigilFlow(n: number, url: string): object[] {
  const flow: object[] = [{ id: 'bench-tab', type: 'tab', label: 'bench' }];
  for (let i = 0; i < n; i++) {
    flow.push(
      { id: `sys${i}`, type: 'vigil-system', name: `camera ${i}`, allowExit: false, contextStore: '' },
      { id: `cam${i}`, z: 'bench-tab', type: 'vigil-camera', system: `sys${i}`, source: 'mjpeg', url, fps: CAMERA_FPS, stallTimeout: 30, autoStart: true, ffmpegPath: '', ffmpegArgs: '', wires: [[`mo${i}`]] },
      {
        id: `mo${i}`,
        z: 'bench-tab',
        type: 'vigil-motion',
        system: `sys${i}`,
        ...DEFAULT_MOTION_SETTINGS,
        fps: DETECT_FPS,
        wires: [[`al${i}`], []],
      },
      { id: `al${i}`, z: 'bench-tab', type: 'vigil-alarm', system: `sys${i}`, startTime: '00:00', endTime: '00:00', timezone: '', alertTimeS: 30, minMovementS: 5, initialAlarmDurationM: 30, alarmHysteresisS: 60, contextStore: '', wires: [[], []] },
    );
  }
  return flow;
}

interface VigilReport {
  counts: CameraCounts[];
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  elu: number;
  /** Largest gap between two detection seconds of a camera, and largest frame-to-verdict delay. */
  maxGapMs: number;
  maxLatencyMs: number;
  /** Detection jobs (frame handed to the engine → its count back, pool queue and IPC included): mean and largest. */
  jobAvgMs: number;
  jobMaxMs: number;
  gcMs: number;
  gcMaxMs: number;
  cpuPct: number;
  rssMb: number;
  /** Worker processes (their CPU and PSS are included), and their PSS alone. */
  workers: number;
  workersMb: number;
  engine: string;
}

/** Runs inside the child: Node-RED with N cameras, measured for `seconds` after `warmup`. */
async function vigilChild(n: number, url: string, seconds: number, warmup: number): Promise<void> {
  const RED = embedNodeRed('vigil-bench-cameras-', vigilFlow(n, url));
  const counts: CameraCounts[] = Array.from({ length: n }, () => ({ frames: 0, seconds: 0, late: 0 }));
  const lastSecond = new Array<number>(n).fill(0);
  let measuring = false;
  let windowStart = 0;
  let maxGapMs = 0;
  let maxLatencyMs = 0;
  // One hook for every delivery: frames reaching vigil-motion, detection seconds reaching vigil-alarm.
  RED.hooks.add('onReceive.vigilBench', (evt) => {
    if (!measuring) return;
    const id = evt.destination.id;
    const kind = id.charCodeAt(0);
    if (kind === 0x6d /* m: mo<i> */) counts[Number(id.slice(2))].frames++;
    else if (kind === 0x61 /* a: al<i> */) {
      const i = Number(id.slice(2));
      const now = performance.now();
      const prev = lastSecond[i] || windowStart;
      if (now - prev > MAX_GAP_S * 1000) counts[i].late++;
      maxGapMs = Math.max(maxGapMs, now - prev);
      const ts = evt.msg.timestamp;
      if (typeof ts === 'number') maxLatencyMs = Math.max(maxLatencyMs, Date.now() - ts);
      lastSecond[i] = now;
      counts[i].seconds++;
    }
  });
  await RED.start();
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const engines = new Set<string>();
  let jobMaxMs = 0;
  let jobSumMs = 0;
  let jobs = 0;
  for (let i = 0; i < n; i++) {
    const hub = (RED.nodes.getNode(`sys${i}`) as { hub?: { on(e: string, f: (m: { engine?: string; loopMaxS?: number; loopAvgS?: number; frames?: number }) => void): void } } | null)?.hub;
    hub?.on('metrics', (m) => {
      if (m.engine) engines.add(m.engine);
      // Frame handed to the engine → count back (the pool's queue and IPC included).
      if (measuring && typeof m.loopMaxS === 'number' && typeof m.loopAvgS === 'number' && typeof m.frames === 'number') {
        jobMaxMs = Math.max(jobMaxMs, m.loopMaxS * 1000);
        jobSumMs += m.loopAvgS * 1000 * m.frames;
        jobs += m.frames;
      }
    });
  }
  const eld = monitorEventLoopDelay({ resolution: 5 });
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    if (!measuring) return;
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcMaxMs = Math.max(gcMaxMs, e.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const elu0 = performance.eventLoopUtilization();
  // Worker processes of Node-RED (the OpenCV engine's pool) count as Vigil's.
  const kids = childPids(process.pid);
  const kidsCpu0 = kids.reduce((a, p) => a + cpuSeconds(p), 0);
  const cpu0 = process.cpuUsage();
  windowStart = performance.now();
  measuring = true;
  eld.enable();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  eld.disable();
  measuring = false;
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const kidsCpu = kids.reduce((a, p) => a + cpuSeconds(p), 0) - kidsCpu0;
  const kidsMem = kids.reduce((a, p) => a + pssMb(p), 0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  gc.disconnect();
  // A camera whose last detection second is more than 1.2 s before the end is late too.
  for (let i = 0; i < n; i++) if (end - (lastSecond[i] || windowStart) > MAX_GAP_S * 1000) counts[i].late++;
  const report: VigilReport = {
    counts,
    loopP50Ms: Math.max(0, eld.percentile(50) / 1e6 - 5),
    loopP99Ms: Math.max(0, eld.percentile(99) / 1e6 - 5),
    loopMaxMs: Math.max(0, eld.max / 1e6 - 5),
    elu,
    maxGapMs,
    maxLatencyMs,
    jobAvgMs: jobs ? jobSumMs / jobs : 0,
    jobMaxMs,
    gcMs,
    gcMaxMs,
    cpuPct: (((cpu.user + cpu.system) / 1000 + kidsCpu * 1000) / (end - windowStart)) * 100,
    rssMb: process.memoryUsage().rss / 1048576 + kidsMem,
    workersMb: kidsMem,
    workers: kids.length,
    engine: [...engines].join('+') || '?',
  };
  process.stdout.write(`VIGIL-REPORT ${JSON.stringify(report)}\n`);
  await Promise.race([RED.stop(), new Promise((r) => setTimeout(r, 10_000))]);
  fs.rmSync(RED.dir, { recursive: true, force: true });
  process.exit(0);
}

async function vigilStep(n: number, url: string): Promise<StepResult> {
  const warmup = 5 + Math.ceil(n / 32);
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const args = [...flags, ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), __filename, '--vigil-step', String(n), url, String(SECONDS), String(warmup)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout! });
  let report: VigilReport | undefined;
  rl.on('line', (line) => {
    if (line.startsWith('VIGIL-REPORT ')) report = JSON.parse(line.slice(13)) as VigilReport;
    else if (line.trim()) console.log(`  [vigil ${n}] ${line}`);
  });
  await new Promise<void>((resolve) => {
    const limit = setTimeout(() => child.kill('SIGKILL'), (SECONDS + warmup + 60) * 1000);
    child.once('exit', () => {
      clearTimeout(limit);
      resolve();
    });
  });
  if (!report) throw new Error(`the Vigil run with ${n} cameras reported nothing`);
  const expected = Math.floor(SECONDS * 1) - 1;
  const base = { side: 'vigil' as const, n, ...summarise(report.counts, SECONDS, expected), loopP50Ms: report.loopP50Ms, loopP99Ms: report.loopP99Ms, elu: report.elu, workersMb: report.workersMb, maxGapMs: report.maxGapMs, maxLatencyMs: report.maxLatencyMs, jobAvgMs: report.jobAvgMs, jobMaxMs: report.jobMaxMs, gcMs: report.gcMs, gcMaxMs: report.gcMaxMs, cpuPct: report.cpuPct, memMb: report.rssMb, engine: `${report.engine}${report.workers ? ` (${report.workers} worker process${report.workers === 1 ? '' : 'es'})` : ''}` };
  return { ...base, ...verdict(base) };
}

// ------------------------------------------------------------------ the reference's way (Python)

/**
 * One camera as the reference handles it (docs/camera-alarm.md §2.2–2.3): VideoCapture reads
 * (decodes) every frame; each is resized to 640 wide (the reference's height formula and its
 * effectively bilinear interpolation), turned grey and JPEG-encoded (quality 95) for the video
 * stream; detection runs when more than 1/fps s passed since the last one (blur, accumulate,
 * diff, threshold, dilate, count), and every `fps` detections make one detection second.
 * Measures from `start` to `end` (epoch seconds) and prints one JSON line.
 */
const PY = String.raw`
import cv2, json, sys, time
url, fps, start, end, max_gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
cv2.setNumThreads(1)
cap = cv2.VideoCapture(url)
avg = None
last_det = 0.0
det_in_second = 0
frames = seconds = late = 0
last_second = None
ksize = 13
while True:
    now = time.time()
    if now >= end:
        break
    ok, frame = cap.read()
    if not ok:
        cap.release()
        time.sleep(0.1)
        cap = cv2.VideoCapture(url)
        continue
    now = time.time()
    measuring = now >= start
    if measuring:
        frames += 1
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (640, int(h * (w / 640))), cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    ok, enc = cv2.imencode('.jpg', grey)
    mono = time.monotonic()
    if mono - last_det > 1.0 / fps:
        last_det = mono
        blurred = cv2.GaussianBlur(grey, (ksize, ksize), 0)
        if avg is None:
            avg = blurred.astype('float32')
        cv2.accumulateWeighted(blurred, avg, 0.5)
        diff = cv2.absdiff(blurred, cv2.convertScaleAbs(avg))
        thresh = cv2.threshold(diff, 5, 255, cv2.THRESH_BINARY)[1]
        thresh = cv2.dilate(thresh, None, iterations=0)
        count = cv2.countNonZero(thresh)
        det_in_second += 1
        if det_in_second >= fps:
            det_in_second = 0
            if measuring:
                prev = last_second if last_second is not None else start
                if now - prev > max_gap:
                    late += 1
                seconds += 1
            last_second = now
if last_second is None or end - last_second > max_gap:
    late += 1
print(json.dumps({'frames': frames, 'seconds': seconds, 'late': late}), flush=True)
`;

function pythonProblem(): string | undefined {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return 'skipped: /usr/bin/python3 not found';
  const probe = spawnSync(py, ['-c', 'import cv2'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'skipped: python3-opencv is not installed (apt-get install python3-opencv)';
  return undefined;
}

/** utime + stime of a process in seconds (/proc/<pid>/stat), 0 when gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** The direct children of a process (/proc/<pid>/stat's ppid). */
function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** PSS in MB (/proc/<pid>/smaps_rollup), else RSS. */
function pssMb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* fall back to RSS */
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function pythonStep(n: number, url: string, script: string): Promise<StepResult> {
  const warmup = 5 + Math.ceil(n / 4);
  const start = Date.now() / 1000 + warmup;
  const end = start + SECONDS;
  const children: ChildProcess[] = [];
  const reports: CameraCounts[] = [];
  const exits: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const c = spawn('/usr/bin/python3', [script, url, String(DETECT_FPS), String(start), String(end), String(PY_CADENCE_S + 0.2)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENCV_LOG_LEVEL: 'ERROR', OMP_NUM_THREADS: '1' } });
    children.push(c);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.resume();
    exits.push(
      new Promise<void>((resolve) => {
        c.once('exit', () => {
          try {
            reports.push(JSON.parse(out.trim().split('\n').pop() ?? '') as CameraCounts);
          } catch {
            reports.push({ frames: 0, seconds: 0, late: 1 });
          }
          resolve();
        });
      }),
    );
  }
  await new Promise((r) => setTimeout(r, Math.max(0, start * 1000 - Date.now())));
  const cpu0 = children.reduce((a, c) => a + cpuSeconds(c.pid ?? 0), 0);
  await new Promise((r) => setTimeout(r, SECONDS * 1000 - 500));
  const cpu1 = children.reduce((a, c) => a + cpuSeconds(c.pid ?? 0), 0);
  const mem = children.reduce((a, c) => a + pssMb(c.pid ?? 0), 0);
  const limit = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 30_000);
  await Promise.all(exits);
  clearTimeout(limit);
  // The reference detects when more than 1/fps s passed: at 15 fps that is every 8th frame,
  // 15/16 detection seconds a second.
  const expected = Math.floor(SECONDS / PY_CADENCE_S) - 1;
  const base = { side: 'python' as const, n, ...summarise(reports, SECONDS, expected), cpuPct: ((cpu1 - cpu0) / (SECONDS - 0.5)) * 100, memMb: mem };
  return { ...base, ...verdict(base) };
}

// ------------------------------------------------------------------ orchestration

function row(r: StepResult): string {
  const loop = r.loopP99Ms !== undefined ? `${r.loopP50Ms!.toFixed(1).padStart(5)} / ${r.loopP99Ms.toFixed(1).padStart(5)}` : '      -      ';
  return `  ${r.side.padEnd(6)} ${String(r.n).padStart(4)}  ${r.fpsMin.toFixed(1).padStart(5)} / ${r.fpsAvg.toFixed(1).padStart(5)}  ${String(r.late).padStart(5)} ${String(r.missing).padStart(7)}  ${loop}  ${r.cpuPct.toFixed(0).padStart(5)} %  ${(r.cpuPct / r.n).toFixed(2).padStart(6)} %  ${r.memMb.toFixed(0).padStart(6)}  ${r.keepsUp ? 'yes' : 'no '}  ${r.why}${r.elu !== undefined ? ` (loop busy ${(r.elu * 100).toFixed(0)}%, workers ${(r.workersMb ?? 0).toFixed(0)} MB of the memory, largest gap ${((r.maxGapMs ?? 0) / 1000).toFixed(2)} s, frame→verdict ≤ ${(r.maxLatencyMs ?? 0).toFixed(0)} ms, detection job ${(r.jobAvgMs ?? 0).toFixed(0)} ms avg / ≤ ${(r.jobMaxMs ?? 0).toFixed(0)} ms, GC ${((r.gcMs ?? 0) / SECONDS / 10).toFixed(1)}%, longest GC ${(r.gcMaxMs ?? 0).toFixed(0)} ms)` : ''}`;
}

const HEADER = '  side      N  fps min / avg   late missing  loop p50/p99 ms   CPU   CPU/cam  mem MB  keeps up';

async function steps(side: 'vigil' | 'python', run: (n: number) => Promise<StepResult>): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const n of STEPS) {
    const r = await run(n);
    out.push(r);
    console.log(row(r));
    if (!r.keepsUp) break;
  }
  return out;
}

function best(results: StepResult[]): StepResult | undefined {
  return results.filter((r) => r.keepsUp).sort((a, b) => b.n - a.n)[0];
}

export async function run(): Promise<void> {
  const cores = os.cpus().length;
  console.log(`cameras: ${os.cpus()[0]?.model ?? 'cpu'} × ${cores}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  console.log(`  640×480 MJPEG at ${CAMERA_FPS} fps per camera, detection ${DETECT_FPS}/s, ${SECONDS} s per step, steps ${STEPS.join(', ')}`);
  const sim = await startSim();
  const all: StepResult[] = [];
  try {
    console.log(HEADER);
    let vigil: StepResult[] = [];
    let python: StepResult[] = [];
    if (SIDES.includes('vigil')) vigil = await steps('vigil', (n) => vigilStep(n, sim.url));
    if (SIDES.includes('python')) {
      const problem = pythonProblem();
      if (problem) console.log(`  python reference ${problem}`);
      else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-py-'));
        const script = path.join(dir, 'camera.py');
        fs.writeFileSync(script, PY);
        try {
          python = await steps('python', (n) => pythonStep(n, sim.url, script));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    all.push(...vigil, ...python);
    const v = best(vigil);
    const p = best(python);
    const perCore = (r: StepResult | undefined): number => (r ? r.n / Math.max(0.01, r.cpuPct / 100) : 0);
    if (v && vigil.length > 1) {
      // From the second step on: the first may run fewer worker processes than the pool holds (a fixed cost, not per camera).
      const first = vigil.length > 2 && v.n > vigil[1].n ? vigil[1] : vigil[0];
      const perCam = (v.memMb - first.memMb) / Math.max(1, v.n - first.n);
      console.log(`  vigil: engine ${v.engine}; RSS per added camera ${perCam.toFixed(1)} MB (${first.n} → ${v.n} cameras)`);
    }
    const vs = v ? `N=${v.n} (${perCore(v).toFixed(1)} per core)` : 'none';
    const ps = p ? `M=${p.n} (${perCore(p).toFixed(1)} per core)` : python.length ? 'none' : 'skipped';
    const ratio = v && p ? `${(perCore(v) / perCore(p)).toFixed(1)}×` : 'n/a';
    console.log(`cameras: vigil keeps up with ${vs}, python reference with ${ps}, ratio ${ratio} per core`);
  } finally {
    await env.stopChild(sim.child, { killAfterMs: 10_000 });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--vigil-step');
  if (i >= 0) {
    const [n, url, seconds, warmup] = process.argv.slice(i + 1);
    vigilChild(Number(n), url, Number(seconds), Number(warmup)).catch((err: unknown) => {
      console.error(err instanceof Error ? err.stack : String(err));
      process.exit(1);
    });
  } else {
    run().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err instanceof Error ? err.stack : String(err));
        process.exit(1);
      },
    );
  }
}
