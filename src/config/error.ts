/** A setting the operator must fix; the CLI prints "configuration problem: <message>" and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'LOCKSTEP_CONFIG';
}
