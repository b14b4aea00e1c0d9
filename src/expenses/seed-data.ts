import type { ExpenseCreate } from "./model.ts";

/**
 * The seed records: ids 1..10 are exactly the ten expenses of the course assignment this
 * project grew from, its test data (id 1 costs 700, the others 800). Any other id gets a
 * record of the same shape, deterministic in the id, so that re-runs send the same bytes.
 */
export function seedRecord(id: string): ExpenseCreate {
  return {
    id,
    name: `Foo ${id}`,
    email: `foo${id}@bar.com`,
    category: "office supplies",
    description: "iPad for office use",
    link: "http://www.apple.com/shop/buy-ipad/ipad-pro",
    estimated_costs: id === "1" ? "700" : "800",
    submit_date: "12-10-2016",
  };
}
