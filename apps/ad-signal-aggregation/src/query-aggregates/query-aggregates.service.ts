import { BadRequestException, ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { NOT_FOUND_BODY } from '@pay/auth';
import { DataSource } from 'typeorm';
import type { AdSignalSettings } from '../ad-signals.settings';
import { AD_SIGNAL_SETTINGS } from '../ad-signals.tokens';
import type { AggregatesPage, AggregatesQuery } from './query-aggregates.dto';

const MAX_SPAN_MS = { hour: 7 * 86_400_000, day: 31 * 86_400_000 } as const;
const MAX_CELLS = 10_000;
/** ε sums are kept in numeric; a float epsilon never makes a budget pass by rounding. */
const EPSILON_SLACK = 1e-9;

interface CellRow {
  window_start: Date;
  merchant_id: string;
  aggregate: unknown;
}

/** An advertiser and the merchants whose cells it may see (from its verified access token). */
export interface AdvertiserPrincipal {
  subject: string;
  /** Whose privacy budget a query spends: shared by every user and token of the organisation. */
  organisation: string;
  merchants: string[];
  tokenId?: string;
}

/**
 * Published cells of the advertiser's own merchants, nothing else. With differential privacy
 * on, each (window, merchant) an advertiser organisation sees for the first time costs that
 * window's ε from its budget; seeing it again costs nothing (the noise is fixed per cell, so asking again
 * learns nothing new). A query that would overspend is refused whole.
 */
@Injectable()
export class QueryAggregates {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
  ) {}

  async query(advertiser: AdvertiserPrincipal, query: AggregatesQuery): Promise<AggregatesPage> {
    const from = Date.parse(query.from);
    const to = Date.parse(query.to);
    if (!(to > from)) throw new BadRequestException({ code: 'VALIDATION_FAILED', message: 'to must be after from' });
    if (to - from > MAX_SPAN_MS[query.granularity]) {
      throw new BadRequestException({
        code: 'VALIDATION_FAILED',
        message: `a query spans at most ${query.granularity === 'hour' ? 7 : 31} days of ${query.granularity} windows`,
      });
    }
    // Not yours and does not exist look the same, so merchant ids cannot be probed.
    if (query.merchantId !== undefined && !advertiser.merchants.includes(query.merchantId)) throw new NotFoundException(NOT_FOUND_BODY);
    const merchants = query.merchantId !== undefined ? [query.merchantId] : advertiser.merchants;
    const dp = this.settings.policy.differentialPrivacy;

    return this.dataSource.transaction(async (tx) => {
      const rows = await tx.query<CellRow[]>(
        `SELECT window_start, merchant_id, aggregate FROM window_cells
          WHERE status = 'published' AND granularity = $1 AND merchant_id = ANY($2) AND window_start >= $3 AND window_start < $4
          ORDER BY window_start, merchant_id, dimensions_key LIMIT $5`,
        [query.granularity, merchants, new Date(from).toISOString(), new Date(to).toISOString(), MAX_CELLS + 1],
      );
      if (rows.length > MAX_CELLS)
        throw new BadRequestException({ code: 'TOO_MANY_CELLS', message: `more than ${MAX_CELLS} cells: ask for a shorter range or one merchant` });
      const page: AggregatesPage = {
        granularity: query.granularity,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        cells: rows.map((row) => row.aggregate),
      };
      if (!dp) return page;

      await tx.query('INSERT INTO advertiser_budgets (organisation) VALUES ($1) ON CONFLICT (organisation) DO NOTHING', [advertiser.organisation]);
      const [{ spent }] = await tx.query<{ spent: string }[]>('SELECT spent::text AS spent FROM advertiser_budgets WHERE organisation = $1 FOR UPDATE', [
        advertiser.organisation,
      ]);
      const releases = [...new Map(rows.map((row) => [`${row.window_start.toISOString()}|${row.merchant_id}`, row])).values()];
      const charged = await tx.query<{ window_start: Date; merchant_id: string }[]>(
        `SELECT window_start, merchant_id FROM advertiser_budget_charges WHERE organisation = $1 AND granularity = $2 AND window_start >= $3 AND window_start < $4`,
        [advertiser.organisation, query.granularity, new Date(from).toISOString(), new Date(to).toISOString()],
      );
      const seen = new Set(charged.map((row) => `${row.window_start.toISOString()}|${row.merchant_id}`));
      const fresh = releases.filter((row) => !seen.has(`${row.window_start.toISOString()}|${row.merchant_id}`));
      const cost = fresh.length * dp.epsilonPerWindow;
      const budget = this.settings.advertiserBudget;
      const remaining = budget - Number(spent);
      if (cost > remaining + EPSILON_SLACK) {
        throw new ForbiddenException({
          code: 'PRIVACY_BUDGET_EXHAUSTED',
          message: `this query would spend ε = ${cost} on ${fresh.length} window(s) not seen before; ${Math.max(0, remaining)} of ${budget} is left. Windows already seen cost nothing.`,
        });
      }
      if (fresh.length > 0) {
        await tx.query(
          `INSERT INTO advertiser_budget_charges (organisation, granularity, window_start, merchant_id, epsilon)
           SELECT $1, $2, w, m, $5 FROM unnest($3::timestamptz[], $4::text[]) AS f(w, m)`,
          [
            advertiser.organisation,
            query.granularity,
            fresh.map((row) => row.window_start.toISOString()),
            fresh.map((row) => row.merchant_id),
            dp.epsilonPerWindow,
          ],
        );
        await tx.query('UPDATE advertiser_budgets SET spent = spent + $2 WHERE organisation = $1', [advertiser.organisation, cost]);
      }
      const spentNow = Number(spent) + cost;
      page.privacyBudget = { total: budget, spent: spentNow, remaining: Math.max(0, budget - spentNow) };
      return page;
    });
  }
}
