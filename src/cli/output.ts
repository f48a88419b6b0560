// What the command-line tool prints: JSON for scripts (`--json`), and for a person aligned tables, pretty
// JSON values, and at a terminal a progress bar redrawn in place under the events as they come.
import type { JsonValue } from "@bufbuild/protobuf";

/** Where output goes: stdout and stderr, and whether stdout is a terminal (ANSI redraws only there). */
export interface Io {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly tty: boolean;
}

export function writeJson(io: Io, value: unknown, pretty = false): void {
  io.out.write(`${JSON.stringify(value, undefined, pretty ? 2 : undefined)}\n`);
}

/** A JSON value for a person: scalars as they are, objects and arrays indented. */
export function showValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "string") return value;
  return typeof value === "object" ? JSON.stringify(value, undefined, 2) : String(value);
}

/** Rows under a header, each column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** `key: value` lines, the keys aligned. */
export function fields(entries: readonly (readonly [string, string | undefined])[]): string {
  const present = entries.filter((entry): entry is readonly [string, string] => entry[1] !== undefined && entry[1] !== "");
  const width = Math.max(...present.map(([key]) => key.length));
  return present.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value.replaceAll("\n", `\n${" ".repeat(width + 2)}`)}`).join("\n") + "\n";
}

const BAR_WIDTH = 30;

/**
 * The last progress a run reported, as a bar on the terminal's last line: every line printed above it first
 * clears it, and it is drawn again below. Without a terminal there is no bar; progress is one line per report.
 */
export class ProgressLine {
  /** What is on the terminal's last line now, and what the next print draws there. */
  private shown = "";
  private next = "";

  constructor(private readonly io: Io) {}

  /** Prints `line` above the bar. */
  print(line: string): void {
    this.clear();
    this.io.out.write(`${line}\n`);
    this.draw();
  }

  /** The bar to draw from now on; it appears with the next line printed. */
  set(percent: number | undefined, message: string): void {
    if (!this.io.tty) return;
    const filled = percent === undefined ? 0 : Math.round((Math.max(0, Math.min(100, percent)) / 100) * BAR_WIDTH);
    const pct = percent === undefined ? "    " : `${String(Math.round(percent)).padStart(3)}%`;
    this.next = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${pct} ${message}`;
  }

  /** Removes the bar (before the last lines, or on exit). */
  end(): void {
    this.clear();
    this.shown = "";
    this.next = "";
  }

  private clear(): void {
    if (this.io.tty && this.shown !== "") this.io.out.write("\r\x1b[2K");
  }

  private draw(): void {
    this.shown = this.next;
    if (this.io.tty && this.shown !== "") this.io.out.write(this.shown);
  }
}
