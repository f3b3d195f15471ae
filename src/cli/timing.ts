// stap -v's per-pass lines: "Pass N: WHAT using Vvirt/Rres/Sshr/Ddata kb, in Uusr/Ssys/Rreal ms."
import { readFileSync } from 'node:fs';

export interface PassClock {
  wall: number;
  cpu: NodeJS.CpuUsage;
}

export function startClock(): PassClock {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function memory(): string {
  try {
    // statm: size resident shared text lib data dt, in pages
    const [size, res, shr, , , data] = readFileSync('/proc/self/statm', 'utf8').trim().split(/\s+/).map(Number);
    const kb = (pages: number | undefined) => ((pages ?? 0) * 4).toString();
    return `${kb(size)}virt/${kb(res)}res/${kb(shr)}shr/${kb(data)}data kb`;
  } catch {
    return '0virt/0res/0shr/0data kb';
  }
}

/** The time part: "in 12usr/3sys/16real ms." */
export function elapsed(c: PassClock): string {
  const cpu = process.cpuUsage(c.cpu);
  return `${Math.round(cpu.user / 1000)}usr/${Math.round(cpu.system / 1000)}sys/${Math.round(performance.now() - c.wall)}real ms.`;
}

/** A full pass line with the memory figures, as passes 1-3 print it. */
export function passLine(n: number, what: string, c: PassClock): string {
  return `Pass ${n}: ${what} using ${memory()}, in ${elapsed(c)}\n`;
}
