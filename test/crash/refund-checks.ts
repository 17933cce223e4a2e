/**
 * The refund rules, checked after the last restart against what the admin was told (the
 * ledger's refund answers), what WeChat holds (the simulator's refund records) and what the
 * database holds. The audit's own checks (refunds never above the amount paid, at most 50, the
 * order's ledger) run with the invariants; these add what only the outside world can see.
 */
import type { Check, LocalRefund } from './checks.js';

/** WeChat's v2 refund statuses, as our refunds name them once settled. */
const LOCAL_STATUS: Record<string, string> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  CHANGE: 'CHANGE',
  REFUNDCLOSE: 'CLOSED',
};

/** Every refund answered 201 exists, on that order, for that amount. */
const refundAnswersExist: Check = ({ ledger, refunds }) => {
  const byNo = new Map(refunds.map((r) => [r.outRefundNo, r]));
  return ledger.refunded.flatMap((answer) => {
    const refund = byNo.get(answer.outRefundNo);
    if (!refund)
      return [`refund ${answer.outRefundNo} was answered 201 (key ${answer.key}) but does not exist`];
    if (refund.orderId !== answer.orderId || refund.amount !== answer.amount)
      return [
        `refund ${answer.outRefundNo} was answered for ${answer.amount} fen of ${answer.orderId} but holds ${refund.amount} of ${refund.orderId}`,
      ];
    return [];
  });
};

/**
 * A refund key sent again after the restart finishes the refund it started: the one any earlier
 * 201 named, and never a second one. A key that was never answered 201 may be refused now (the
 * amount went to other refunds meanwhile), but never with a 5xx once WeChat behaves.
 */
const retriedRefundKeysFinishTheSameRefund: Check = ({ ledger, retriedRefunds }) => {
  const problems: string[] = [];
  for (const [key, again] of retriedRefunds) {
    const earlier = ledger.refunded.filter((r) => r.key === key);
    if (again.status >= 500 || (earlier.length > 0 && again.status !== 201)) {
      problems.push(`refund key ${key} sent again after the restart was answered ${again.status}`);
      continue;
    }
    for (const e of earlier) {
      if (e.outRefundNo !== again.outRefundNo)
        problems.push(`refund key ${key} first refunded ${e.outRefundNo}, then ${again.outRefundNo}`);
    }
  }
  return problems;
};

/**
 * No refund issued twice: every refund WeChat holds is one of ours, for that order and amount,
 * and the one refund an admin key points to. A key whose refund was saved but not yet recorded on
 * it would let the retry save (and send) a second refund for the same click.
 */
const wechatRefundsAreOurs: Check = ({ wechat, refunds, refundKeyTargets }) => {
  const byNo = new Map(refunds.map((r) => [r.outRefundNo, r]));
  const pointedTo = new Map<string, number>();
  for (const id of refundKeyTargets.values())
    if (id !== null) pointedTo.set(id, (pointedTo.get(id) ?? 0) + 1);
  const problems: string[] = [];
  for (const w of wechat) {
    for (const r of w.refunds ?? []) {
      const ours = byNo.get(r.out_refund_no);
      if (!ours) {
        problems.push(
          `WeChat refunded ${r.out_refund_no} on ${w.out_trade_no}, which is not in the database`,
        );
      } else if (ours.amount !== r.refund_fee) {
        problems.push(`WeChat refunded ${r.refund_fee} fen as ${r.out_refund_no}; we saved ${ours.amount}`);
      } else if (pointedTo.get(ours.id) !== 1) {
        problems.push(
          `${r.out_refund_no} reached WeChat but ${pointedTo.get(ours.id) ?? 0} refund keys lead to it`,
        );
      }
    }
  }
  return problems;
};

/** WeChat never gave back more than it took for an order, whatever we asked. */
const wechatRefundsWithinPaid: Check = ({ wechat }) =>
  wechat.flatMap((w) => {
    const out = (w.refunds ?? [])
      .filter((r) => r.status !== 'REFUNDCLOSE')
      .reduce((sum, r) => sum + r.refund_fee, 0);
    return out > w.total_fee ? [`WeChat refunded ${out} fen of ${w.total_fee} on ${w.out_trade_no}`] : [];
  });

/**
 * Every refund settled the way WeChat settled it: none left PROCESSING once the reconciler had
 * its turn, and a refund WeChat never heard of is CLOSED here (its amount is free again).
 */
const refundsSettledAsWechat: Check = ({ wechat, refunds }) => {
  const atWechat = new Map(
    wechat.flatMap((w) => (w.refunds ?? []).map((r) => [r.out_refund_no, r] as const)),
  );
  return refunds.flatMap((r: LocalRefund) => {
    const w = atWechat.get(r.outRefundNo);
    if (r.status === 'PROCESSING') return [`refund ${r.outRefundNo} is still PROCESSING after settling`];
    if (!w)
      return r.status === 'CLOSED' ? [] : [`refund ${r.outRefundNo} is ${r.status} but WeChat never had it`];
    const expected = LOCAL_STATUS[w.status];
    return expected === r.status
      ? []
      : [`refund ${r.outRefundNo} is ${r.status} here, ${w.status} at WeChat`];
  });
};

export const REFUND_CHECKS: readonly Check[] = [
  refundAnswersExist,
  retriedRefundKeysFinishTheSameRefund,
  wechatRefundsAreOurs,
  wechatRefundsWithinPaid,
  refundsSettledAsWechat,
];
