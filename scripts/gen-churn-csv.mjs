// Generates examples/data/churn.csv: a synthetic customer-churn table with numeric and categorical
// columns and a few missing values, drawn from a known logistic model so a small MLP can learn it.
// Run: node scripts/gen-churn-csv.mjs  (deterministic: same file every time)
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

let s = 20261128;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

const rows = ['customer_id,plan,region,tenure_months,monthly_spend,support_tickets,autopay,churned'];
for (let i = 0; i < 800; i++) {
  const plan = pick(['basic', 'basic', 'pro', 'enterprise']);
  const region = pick(['north', 'south', 'east', 'west']);
  const tenure = Math.max(1, Math.round(30 + 20 * normal()));
  const spend =
    Math.round((plan === 'basic' ? 20 : plan === 'pro' ? 55 : 140) * (1 + 0.2 * normal()) * 100) / 100;
  const tickets = Math.max(0, Math.round(1.5 + 1.5 * normal()));
  const autopay = rand() < 0.6 ? 'yes' : 'no';
  const z =
    1.2 -
    0.06 * tenure +
    0.55 * tickets -
    (autopay === 'yes' ? 1.1 : 0) +
    (plan === 'basic' ? 0.8 : plan === 'enterprise' ? -0.9 : 0) +
    (region === 'south' ? 0.5 : 0) +
    0.5 * normal();
  const churned = rand() < 1 / (1 + Math.exp(-2 * z)) ? 'yes' : 'no';
  const miss = (v) => (rand() < 0.02 ? '' : v);
  rows.push(
    [
      `C${String(i + 1).padStart(4, '0')}`,
      plan,
      miss(region),
      tenure,
      miss(spend),
      tickets,
      autopay,
      churned,
    ].join(','),
  );
}
writeFileSync(new URL('../examples/data/churn.csv', import.meta.url), rows.join('\n') + '\n');
console.log(`wrote ${rows.length - 1} rows`);
