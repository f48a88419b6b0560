// The example's activities: they run in the app's process, so they are made from Flowgate's context and
// read the config store ConfigService writes to.
import type { ConfigStore } from "flowgate";

export interface OrderSettings {
  currency: string;
  discount_percent: number;
  review_above: number;
  refund_reasons: string[];
  version: number;
}

/** What the app stores under "orders" at its first start, until someone edits it. */
export const DEFAULT_SETTINGS = { currency: "EUR", discount_percent: 0, review_above: 1000, refund_reasons: ["damaged", "late"] };

export function orderActivities(configs: ConfigStore) {
  return {
    async orderSettings(): Promise<OrderSettings> {
      const { config, version } = await configs.get("orders");
      return { ...DEFAULT_SETTINGS, ...(config as Partial<OrderSettings>), version };
    },
  };
}

export type OrderActivities = ReturnType<typeof orderActivities>;
