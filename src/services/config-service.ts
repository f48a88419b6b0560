// ConfigService: proto in, config store call, proto out. On every protocol the version can also travel in
// HTTP's own conditional headers (If-Match, If-None-Match: *), and every answer that has a version sets it
// as the ETag, so REST clients use the HTTP they know.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { UpdateMode } from "../../gen/flowgate/config/v1/config_pb.js";
import type { ConfigService } from "../../gen/flowgate/config/v1/config_service_pb.js";
import type { ConfigMaps, ConfigStore, StoredConfig } from "../configs/index.js";
import { checkedObject } from "./json.js";

export function createConfigService(store: ConfigStore, maps: ConfigMaps): ServiceImpl<typeof ConfigService> {
  return {
    async getConfig(req, ctx) {
      return answer(ctx, await store.get(req.configId));
    },

    async updateConfig(req, ctx) {
      const expectedVersion = expectedVersionOf(ctx, req.expectedVersion, true);
      const config = checkedObject(req.config ?? {}, "config");
      const mode = req.mode === UpdateMode.MERGE_PATCH ? "merge" : "replace";
      return answer(ctx, await store.put(req.configId, config, { mode, expectedVersion }));
    },

    async listConfigs(req) {
      const page = await store.list(req.pageSize || 100, req.pageToken, req.prefix);
      return { configs: page.configs.map(toProto), nextPageToken: page.nextPageToken };
    },

    async deleteConfig(req, ctx) {
      const version = await store.delete(req.configId, expectedVersionOf(ctx, req.expectedVersion, false));
      return { version };
    },

    async getConfigMap(req) {
      return { configMapId: req.configMapId, configMap: maps.get(req.configMapId) };
    },
  };
}

function answer(ctx: HandlerContext, stored: StoredConfig) {
  ctx.responseHeader.set("etag", `"${stored.version}"`);
  return toProto(stored);
}

function toProto(stored: StoredConfig) {
  return {
    configId: stored.configId,
    config: stored.config,
    version: stored.version,
    createTime: timestampFromDate(stored.createTime),
    updateTime: timestampFromDate(stored.updateTime),
  };
}

/**
 * The version a write expects: the request's field, or HTTP's If-Match: "N" (If-None-Match: * for "none
 * yet", on writes). Both at once must agree. A weak or unknown tag is refused, not ignored: ignoring it
 * would write unconditionally, the one thing the editor asked not to happen.
 */
function expectedVersionOf(ctx: HandlerContext, field: number | undefined, creates: boolean): number | undefined {
  const ifMatch = ctx.requestHeader.get("if-match");
  const ifNoneMatch = ctx.requestHeader.get("if-none-match");
  let fromHeader: number | undefined;
  if (ifMatch !== null) {
    const match = /^\s*"(\d{1,9})"\s*$/.exec(ifMatch);
    if (match === null) throw new ConnectError(`If-Match: ${JSON.stringify(ifMatch)} is not a version this server sent as an ETag (such as "3")`, Code.InvalidArgument);
    fromHeader = Number(match[1]);
  }
  if (ifNoneMatch !== null) {
    if (!creates || ifNoneMatch.trim() !== "*") {
      throw new ConnectError(`If-None-Match: only "*" (create only) is understood${creates ? "" : ", and only on writes"}`, Code.InvalidArgument);
    }
    if (fromHeader !== undefined) throw new ConnectError("If-Match and If-None-Match: set one, not both", Code.InvalidArgument);
    fromHeader = 0;
  }
  if (fromHeader !== undefined && field !== undefined && fromHeader !== field) {
    throw new ConnectError(`expected_version: ${field} disagrees with the conditional header's ${fromHeader}`, Code.InvalidArgument);
  }
  return fromHeader ?? field;
}
