// The activities a worker registers: the user's (a module's exported functions, or the library's object),
// beside the samples' when the samples run.
import { pathToFileURL } from "node:url";
import { ConfigError } from "../config.js";
import { SAMPLE_ACTIVITIES } from "../samples/index.js";

export type Activity = (...args: never[]) => unknown;
export type Activities = Readonly<Record<string, Activity>>;

/** The activities module's exported functions. */
export async function loadActivities(file: string): Promise<Activities> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const activities = Object.fromEntries(Object.entries(module).filter((e): e is [string, Activity] => typeof e[1] === "function"));
  if (Object.keys(activities).length === 0) throw new ConfigError(`FLOWGATE_WORKER_ACTIVITIES: "${file}" exports no functions`);
  return activities;
}

/**
 * The samples' activities beside the user's, when the samples run. A user activity named like a sample's is
 * refused rather than either one silently winning: the sample workflows would call the user's function with
 * arguments it does not expect, or the user's workflows would get the sample's. `source` names where the
 * user's came from, for the message.
 */
export function withSampleActivities(samples: boolean, user: Activities | undefined, source = "FLOWGATE_WORKER_ACTIVITIES"): Activities | undefined {
  if (!samples) return user;
  const clash = Object.keys(user ?? {}).filter((name) => Object.hasOwn(SAMPLE_ACTIVITIES, name));
  if (clash.length > 0) {
    throw new ConfigError(
      `${source}: the samples have activities named ${clash.map((n) => `"${n}"`).join(", ")} too: rename yours, or set FLOWGATE_SAMPLES=false`,
    );
  }
  return { ...SAMPLE_ACTIVITIES, ...user };
}
