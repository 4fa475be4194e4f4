/**
 * One error class for the whole toolkit. The code decides the CLI exit code and the HTTP status,
 * so a failure means the same thing whether it surfaces in a terminal or over the network.
 */
export const ERROR_CODES = {
  USAGE: { exit: 2, http: 400 },
  INVALID_SPEC: { exit: 1, http: 400 },
  INVALID_DATA: { exit: 1, http: 400 },
  INVALID_ARGUMENT: { exit: 1, http: 400 },
  NOT_FOUND: { exit: 1, http: 404 },
  CONFLICT: { exit: 1, http: 409 },
  IO: { exit: 1, http: 500 },
  STORE: { exit: 1, http: 500 },
  INTERRUPTED: { exit: 1, http: 499 },
  UNAVAILABLE: { exit: 1, http: 503 },
  INTERNAL: { exit: 1, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in the user's input the problem is: a file and line/column, or a path into a spec. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: string | number;
  path?: string;
}

export class ModelautoError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: ErrorLocation; cause?: unknown } = {}) {
    super(
      withLocation(message, options.location),
      options.cause !== undefined ? { cause: options.cause } : {},
    );
    this.name = 'ModelautoError';
    this.code = code;
    this.location = options.location;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { code: ErrorCode; message: string; location?: ErrorLocation } {
    return { code: this.code, message: this.message, ...(this.location ? { location: this.location } : {}) };
  }
}

function withLocation(message: string, loc: ErrorLocation | undefined): string {
  if (!loc) return message;
  const where: string[] = [];
  if (loc.file !== undefined) {
    let f = loc.file;
    if (loc.line !== undefined) f += `:${loc.line}`;
    where.push(f);
  } else if (loc.line !== undefined) {
    where.push(`line ${loc.line}`);
  }
  if (loc.column !== undefined) where.push(`column ${JSON.stringify(String(loc.column))}`);
  if (loc.path !== undefined) where.push(loc.path);
  return where.length ? `${where.join(', ')}: ${message}` : message;
}

export function isModelautoError(e: unknown): e is ModelautoError {
  return e instanceof ModelautoError;
}

/** Wraps anything thrown into a ModelautoError, keeping the original as the cause. */
export function toModelautoError(e: unknown, fallback: ErrorCode = 'INTERNAL'): ModelautoError {
  if (e instanceof ModelautoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ModelautoError(fallback, message, { cause: e });
}
