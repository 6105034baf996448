import type { Executor } from './executor.js';
import { factsExecutor } from './facts.js';
import { httpRequestExecutor } from './http-request.js';
import { localCommandExecutor } from './local-command.js';
import { noopExecutor } from './noop.js';
import { pingExecutor } from './ping.js';
import { snmpGetExecutor } from './snmp-get.js';
import { snmpWalkExecutor } from './snmp-walk.js';
import { sshCommandExecutor } from './ssh-command.js';
import { tcpPortScanExecutor } from './tcp-port-scan.js';

export type { Executor, ExecutorSettings, TargetContext, TargetResult, LogLevel } from './executor.js';

/** Every executor, by type. Workflows and discovery reuse them through the jobs module's index. */
export const EXECUTORS: readonly Executor[] = [
  sshCommandExecutor,
  factsExecutor,
  pingExecutor,
  tcpPortScanExecutor,
  snmpGetExecutor,
  snmpWalkExecutor,
  httpRequestExecutor,
  localCommandExecutor,
  noopExecutor,
];

export function executorRegistry(executors: readonly Executor[] = EXECUTORS): Map<string, Executor> {
  const map = new Map<string, Executor>();
  for (const e of executors) {
    if (map.has(e.type)) throw new Error(`two executors declare type '${e.type}'`);
    map.set(e.type, e);
  }
  return map;
}
