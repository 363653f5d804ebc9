/** A thread's nice value (field 19 of /proc/self/task/<tid>/stat; the main thread's id is the pid). */
import { readFileSync } from 'node:fs';

export function threadNice(tid: string | number = process.pid): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
