import { Type } from '@sinclair/typebox';

/** GET /admin/audit: the report of `weapp-pay audit --json` (src/audit/audit.ts), for the console. */
export const AuditReportSchema = Type.Object({
  ok: Type.Boolean({ description: 'true when no check found anything and every check ran' }),
  checks: Type.Array(
    Type.Object({
      name: Type.String({ description: 'stable check name, e.g. single-credit' }),
      description: Type.String(),
      status: Type.Union(['ok', 'findings', 'not_applicable', 'error'].map((s) => Type.Literal(s))),
      count: Type.Integer({ description: 'every finding, however many are listed' }),
      findings: Type.Array(
        Type.Object({
          id: Type.String({ description: 'the offending order id' }),
          detail: Type.String(),
        }),
        { description: 'the first 100, in id order' },
      ),
      reason: Type.Optional(Type.String({ description: 'why it does not apply, or what stopped it' })),
    }),
  ),
});
