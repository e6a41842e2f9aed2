/**
 * Thrown at start-up when the module's configuration is wrong. The message names the field, says
 * what is wrong with it, and says what to do; the application does not start.
 */
export class OAuth2ConfigurationError extends Error {
  /** The path of the offending field, such as `resources[1].introspectionEndpoint`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`OAuth2Module configuration: ${field} ${problem}`);
    this.name = 'OAuth2ConfigurationError';
    this.field = field;
  }

  /** Several problems at once, so that one start-up shows them all. */
  static fromProblems(problems: ReadonlyArray<{ field: string; problem: string }>): OAuth2ConfigurationError {
    if (problems.length === 1) {
      return new OAuth2ConfigurationError(problems[0].field, problems[0].problem);
    }
    const error = new OAuth2ConfigurationError(problems[0].field, problems[0].problem);
    error.message =
      `OAuth2Module configuration has ${problems.length} problems:\n` +
      problems.map(({ field, problem }) => `  - ${field} ${problem}`).join('\n');
    return error;
  }

  /** A plain-string resource or cache name that is not registered. */
  static unknownName(field: string, kind: 'resource' | 'cache', name: string, registered: readonly string[]) {
    const list = registered.length ? registered.map((n) => `'${n}'`).join(', ') : 'none';
    const where = kind === 'resource' ? 'resources' : 'caches';
    return new OAuth2ConfigurationError(
      field,
      `names the ${kind} '${name}', which is not registered (registered ${where}: ${list}). ` +
        `Use one of those names, or add a ${kind} named '${name}' to \`${where}\`.`,
    );
  }
}
