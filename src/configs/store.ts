// Workflow configurations: JSON objects with a version that every write raises, in the SQL database every
// replica shares. A write that names the version it read is refused (ConfigVersionMismatchError) when
// another editor wrote in between; the check and the write are one transaction holding the row's lock.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Database, Queryable } from "../database/index.js";
import { ConfigNotFoundError, ConfigVersionMismatchError, InvalidConfigRequestError } from "./errors.js";
import { mergePatch } from "./merge-patch.js";

export interface StoredConfig {
  readonly configId: string;
  readonly config: JsonObject;
  readonly version: number;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface ConfigWrite {
  /** "replace" makes `config` the document; "merge" applies it as a JSON merge patch (RFC 7396). */
  readonly mode: "replace" | "merge";
  /** Write only at this version; 0: only when the config does not exist. Undefined: whatever is stored. */
  readonly expectedVersion: number | undefined;
}

export interface ConfigPage {
  readonly configs: readonly StoredConfig[];
  readonly nextPageToken: string;
}

interface Row {
  config_id: string;
  config: JsonObject;
  version: number;
  create_time: Date;
  update_time: Date;
  deleted: boolean;
}

const COLUMNS = "config_id, config, version, create_time, update_time, deleted";

export class ConfigStore {
  constructor(private readonly db: Database) {}

  async get(configId: string): Promise<StoredConfig> {
    const [row] = await this.db.query<Row>(`SELECT ${COLUMNS} FROM flowgate_configs WHERE config_id = $1 AND NOT deleted`, [configId]);
    if (row === undefined) throw new ConfigNotFoundError(configId);
    return fromRow(row);
  }

  async put(configId: string, config: JsonObject, write: ConfigWrite): Promise<StoredConfig> {
    // Two creates can race (no row to lock yet): the loser's insert finds the winner's row and, unless it
    // asked to create only, goes round again as an update of it.
    for (;;) {
      const written = await this.db.transaction((tx) => this.writeOnce(tx, configId, config, write));
      if (written !== undefined) return written;
    }
  }

  async list(pageSize: number, pageToken: string, prefix: string): Promise<ConfigPage> {
    const after = decodePageToken(pageToken);
    const rows = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM flowgate_configs WHERE config_id > $1 AND starts_with(config_id, $2) AND NOT deleted ORDER BY config_id LIMIT $3`,
      [after, prefix, pageSize + 1],
    );
    const page = rows.slice(0, pageSize).map(fromRow);
    const more = rows.length > pageSize;
    return { configs: page, nextPageToken: more ? Buffer.from(page.at(-1)!.configId).toString("base64url") : "" };
  }

  /** Deletes the config; returns the version deleted. */
  async delete(configId: string, expectedVersion: number | undefined): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ version: number; deleted: boolean }>("SELECT version, deleted FROM flowgate_configs WHERE config_id = $1 FOR UPDATE", [configId]);
      if (row === undefined || row.deleted) throw new ConfigNotFoundError(configId);
      if (expectedVersion !== undefined && expectedVersion !== row.version) throw new ConfigVersionMismatchError(configId, expectedVersion, row.version);
      // A tombstone, not a DELETE: the version stays taken (see the migration).
      await tx.query("UPDATE flowgate_configs SET deleted = true, config = '{}'::jsonb, update_time = now() WHERE config_id = $1", [configId]);
      return row.version;
    });
  }

  /** One attempt; undefined when a concurrent create won the race and the write should be tried again. */
  private async writeOnce(tx: Queryable, configId: string, config: JsonObject, write: ConfigWrite): Promise<StoredConfig | undefined> {
    const [current] = await tx.query<Row>(`SELECT ${COLUMNS} FROM flowgate_configs WHERE config_id = $1 FOR UPDATE`, [configId]);
    const { expectedVersion } = write;
    if (current?.deleted === true) {
      // Created again over its tombstone: a new document, at the version after the deleted one's.
      if (expectedVersion !== undefined && expectedVersion !== 0) throw new ConfigNotFoundError(configId);
      const document = write.mode === "merge" ? (mergePatch({}, config) as JsonObject) : config;
      const [revived] = await tx.query<Row>(
        `UPDATE flowgate_configs SET config = $2::jsonb, version = version + 1, deleted = false, create_time = now(), update_time = now()
         WHERE config_id = $1 RETURNING ${COLUMNS}`,
        [configId, JSON.stringify(document)],
      );
      return fromRow(revived!);
    }
    if (current === undefined) {
      if (expectedVersion !== undefined && expectedVersion !== 0) throw new ConfigNotFoundError(configId);
      const document = write.mode === "merge" ? (mergePatch({}, config) as JsonObject) : config;
      const [created] = await tx.query<Row>(
        `INSERT INTO flowgate_configs (config_id, config, version) VALUES ($1, $2::jsonb, 1) ON CONFLICT (config_id) DO NOTHING RETURNING ${COLUMNS}`,
        [configId, JSON.stringify(document)],
      );
      if (created !== undefined) return fromRow(created);
      if (expectedVersion === 0) {
        const [winner] = await tx.query<{ version: number }>("SELECT version FROM flowgate_configs WHERE config_id = $1", [configId]);
        throw new ConfigVersionMismatchError(configId, 0, winner?.version);
      }
      return undefined;
    }
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new ConfigVersionMismatchError(configId, expectedVersion, current.version);
    }
    const document = write.mode === "merge" ? (mergePatch(current.config, config) as JsonObject) : config;
    const [updated] = await tx.query<Row>(
      `UPDATE flowgate_configs SET config = $2::jsonb, version = version + 1, update_time = now() WHERE config_id = $1 RETURNING ${COLUMNS}`,
      [configId, JSON.stringify(document)],
    );
    return fromRow(updated!);
  }
}

function fromRow(row: Row): StoredConfig {
  return {
    configId: row.config_id,
    config: row.config,
    version: row.version,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
  };
}

function decodePageToken(token: string): string {
  if (token === "") return "";
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidConfigRequestError("page_token: not a page token from a previous page");
  return Buffer.from(token, "base64url").toString();
}
