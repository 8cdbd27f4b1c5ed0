import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * The resident set size of process `pid` in bytes, from `/proc/PID/status`
 * (`VmRSS`, in kB); undefined when it cannot be read (another machine's or
 * another user's process, one that exited, no `/proc`).
 */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Host names that mean this machine. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The process listening on `url`'s port on this machine: the TCP socket in
 * LISTEN state on that port (`/proc/net/tcp`, `/proc/net/tcp6`), then the
 * process holding it among those this user may inspect (`/proc/PID/fd`).
 * Undefined for another host or when no such process is visible; `--pid`
 * names it then.
 */
export async function listeningPid(url: string): Promise<number | undefined> {
  const { hostname, port: portText, protocol } = new URL(url);
  if (!LOOPBACK.has(hostname)) return undefined;
  const port = portText === '' ? (protocol === 'https:' ? 443 : 80) : Number(portText);
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/) as (
        string | undefined
      )[];
      if (local === undefined || inode === undefined || state !== '0A') continue; // 0A: LISTEN
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) {
        inodes.add(`socket:[${inode}]`);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      try {
        if (inodes.has(await readlink(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds process `pid` has used so far, user and system, its threads
 * included (`/proc/PID/stat` utime + stime); undefined when unreadable.
 */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces, so count fields after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    return Number.isFinite(user) && Number.isFinite(system)
      ? (user + system) / CLOCK_TICKS
      : undefined;
  } catch {
    return undefined;
  }
}
