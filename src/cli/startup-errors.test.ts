import { describe, expect, it } from 'vitest';
import { explainStartupError, StartupProblem, startupFailure } from './startup-errors.js';

/** pg's DatabaseError carries the server's SQLSTATE in `code`; these are the server's own messages. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const URL = 'postgres://app:s3cret@db.internal:6432/pay';

describe('explainStartupError for PostgreSQL errors this machine cannot provoke', () => {
  it('wrong password (28P01) names the password in DATABASE_URL, masked', () => {
    const text = explainStartupError(pgError('28P01', 'password authentication failed for user "app"'), {
      databaseUrl: URL,
    });
    expect(text).toBe(
      'PostgreSQL at db.internal:6432 rejected the password for this user (DATABASE_URL=postgres://app:***@db.internal:6432/pay). Correct the password in DATABASE_URL (percent-encode characters such as @ or /).',
    );
  });

  it('pg_hba "no encryption" (28000) means TLS is required: add sslmode', () => {
    const text = explainStartupError(
      pgError('28000', 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "pay", no encryption'),
      { databaseUrl: URL },
    );
    expect(text).toContain('accepts only encrypted (TLS) connections');
    expect(text).toContain('Add ?sslmode=require to DATABASE_URL');
  });

  it('another pg_hba refusal (28000) points at pg_hba.conf', () => {
    const text = explainStartupError(
      pgError(
        '28000',
        'no pg_hba.conf entry for host "10.0.0.5", user "app", database "pay", SSL encryption',
      ),
      { databaseUrl: URL },
    );
    expect(text).toContain('refused this user');
    expect(text).toContain('pg_hba.conf');
  });

  it('an untrusted server certificate asks for sslrootcert', () => {
    const err = pgError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain');
    expect(explainStartupError(err, { databaseUrl: URL })).toContain('sslrootcert=');
  });

  it('reads the driver error a failed migration wraps', () => {
    const wrapped = new Error('database migration 001 failed: x', {
      cause: pgError('42501', 'permission denied for schema public'),
    });
    expect(explainStartupError(wrapped, { databaseUrl: URL })).toContain('lacks a privilege');
  });

  it('keeps a problem already phrased for the user, and shows no stack for it even at debug', () => {
    const problem = new StartupProblem('WECHAT_MCH_CERT=x: the file does not exist.');
    expect(startupFailure(problem, {}, 'debug')).toBe(
      'weapp-pay: WECHAT_MCH_CERT=x: the file does not exist.\n',
    );
  });

  it('falls back to the message and where to see more, without a stack below debug', () => {
    const text = startupFailure(new Error('something odd'), {}, 'info');
    expect(text).toBe(
      'weapp-pay: could not start: something odd. Run with LOG_LEVEL=debug to see where it failed.\n',
    );
  });
});
