// What the client programs share: settings from run.py, checks that are counted, and a PNG.
import { crc32, deflateSync } from "node:zlib";

export interface Settings {
  api: string;
  username: string;
  password: string;
  tag: string;
}

export function settings(): Settings {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set (run through tests/clients/run.py)`);
    }
    return value;
  };
  return {
    api: need("API_URL"),
    username: need("API_USERNAME"),
    password: need("API_PASSWORD"),
    tag: process.env.RUN_TAG ?? String(Date.now()),
  };
}

/** Checks that are counted and printed; a failed one does not stop the program. */
export class Checks {
  passed = 0;
  failed: string[] = [];

  constructor(private readonly program: string) {}

  check(name: string, ok: boolean, detail = ""): boolean {
    if (ok) {
      this.passed += 1;
      console.log(`ok   ${this.program}: ${name}`);
    } else {
      this.failed.push(name);
      console.log(`FAIL ${this.program}: ${name}${detail ? ` -- ${detail}` : ""}`);
    }
    return ok;
  }

  equal<T>(name: string, actual: T, expected: T): boolean {
    return this.check(name, actual === expected, `got ${show(actual)}, expected ${show(expected)}`);
  }

  /** A step that cannot go on without `value`: counted as failed, then thrown. */
  need<T>(name: string, value: T | null | undefined, detail: string): T {
    if (value === undefined || value === null) {
      this.check(name, false, detail);
      throw new Stop(name);
    }
    this.check(name, true);
    return value;
  }

  /** Prints the closing line and sets the exit code: non-zero when any check failed. */
  finish(error?: unknown): void {
    if (error !== undefined && !(error instanceof Stop)) {
      this.failed.push(`unexpected error: ${String(error)}`);
      console.log(`FAIL ${this.program}: unexpected error -- ${describe(error)}`);
    } else if (error instanceof Stop) {
      console.log(`FAIL ${this.program}: stopped after "${error.message}"`);
    }
    console.log(`${this.program}: ${this.passed} passed, ${this.failed.length} failed`);
    process.exitCode = this.failed.length === 0 && error === undefined ? 0 : 1;
  }
}

export class Stop extends Error {}

/** Whether each value is at most the next (strings by UTF-16 code units, as SQLite's BINARY). */
export function ascending<T extends string | number>(values: T[]): boolean {
  return values.every((value, i) => i === 0 || values[i - 1] <= value);
}

export function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** A small truecolour PNG (a diagonal gradient), made here so the test ships no binary file. */
export function png(width: number, height: number): Uint8Array<ArrayBuffer> {
  const rows: number[] = [];
  for (let y = 0; y < height; y += 1) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x += 1) {
      rows.push(Math.floor((x * 255) / width), Math.floor((y * 255) / height), 128);
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bits per sample
  header.writeUInt8(2, 9); // RGB
  const file = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  const bytes = new Uint8Array(file.length);
  bytes.set(file);
  return bytes;
}

/** The request's URL without a trailing slash: the server answers both spellings. */
export function withoutTrailingSlash(request: Request): Request {
  const url = request.url.replace(/\/(\?|$)/, "$1");
  return new Request(url, request);
}
