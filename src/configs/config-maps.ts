// Config maps: the configuration forms an application defines (commonly a JSON Schema with UI hints) for a
// UI to render. They come from code, fixed at start-up.
import type { JsonObject } from "@bufbuild/protobuf";
import { ConfigMapNotFoundError } from "./errors.js";

export class ConfigMaps {
  constructor(private readonly maps: Readonly<Record<string, JsonObject>>) {}

  get(configMapId: string): JsonObject {
    if (!Object.hasOwn(this.maps, configMapId)) throw new ConfigMapNotFoundError(configMapId, Object.keys(this.maps));
    return this.maps[configMapId]!;
  }
}
