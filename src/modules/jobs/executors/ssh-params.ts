import { Type } from 'typebox';

/**
 * The SSH connection parameters every SSH executor takes (`ssh_command`, `config_backup`,
 * `config_push`): spread into the executor's params object so names, bounds and defaults are one
 * definition. `connectTarget` (ssh-command.ts) reads them.
 */
export const sshConnectionParams = {
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: '(22)' })),
  connect_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000, description: '(10000)' })),
  command_timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Per command (60000)' })),
  host_key_sha256: Type.Optional(
    Type.String({
      maxLength: 100,
      pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$',
      description: 'Pin the host key fingerprint for this run. Unset: the key pinned at the first connection to the device (or host:port) must match',
    }),
  ),
};
