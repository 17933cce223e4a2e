/**
 * Table listing on PostgreSQL that stays inside our own schema.
 *
 * Kysely's migrator asks "does kysely_migration exist?" by listing every column of every table
 * in every schema of the database, and for each column calls pg_get_serial_sequence, which looks
 * the table up by name again. A table, column or schema that another session drops or renames
 * between the two lookups fails the whole listing (42703 undefined column, 42P01 undefined
 * table, 3F000 undefined schema), and with it our start-up migration. That happens whenever
 * something else changes its own tables in the same database while we start: another
 * application, another tenant's schema, another test file.
 *
 * This introspector lists only the schemas on our search_path, so DDL elsewhere in the database
 * cannot fail our start-up. It also reads everything from the catalogs in the statement's one
 * snapshot and never looks a table up by name: a serial column is found through pg_depend, by
 * OID. So a table dropped or renamed in our own schema while we list cannot fail the listing
 * either. That happens in a rolling upgrade, where a second instance applies
 * 0007_api_keys (which drops and renames idempotency_keys) while this one starts.
 *
 * @example
 * new Kysely({ dialect: new OwnSchemaPostgresDialect({ pool }) }).introspection.getTables()
 */
import {
  type ColumnMetadata,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';

interface ColumnRow {
  column: string;
  not_null: boolean;
  has_default: boolean;
  table: string;
  table_type: string;
  schema: string;
  type: string;
  type_schema: string;
  column_description: string | null;
  auto_incrementing: boolean;
}

/** The tables Kysely keeps its own bookkeeping in (its DEFAULT_MIGRATION_*TABLE names). */
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

export class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

export class OwnSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      select unnest(current_schemas(false)) as name`.execute(this.#db);
    return rows.map((r) => ({ name: r.name }));
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      select a.attname as column, a.attnotnull as not_null, a.atthasdef as has_default,
             c.relname as table, c.relkind as table_type, ns.nspname as schema,
             typ.typname as type, dtns.nspname as type_schema,
             col_description(a.attrelid, a.attnum) as column_description,
             (a.attidentity <> '' or exists (
               select 1 from pg_catalog.pg_depend d
               join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
               where d.refclassid = 'pg_catalog.pg_class'::regclass
                 and d.refobjid = a.attrelid and d.refobjsubid = a.attnum
                 and d.classid = 'pg_catalog.pg_class'::regclass
                 and d.deptype in ('a', 'i'))) as auto_incrementing
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on a.attrelid = c.oid
      join pg_catalog.pg_namespace ns on c.relnamespace = ns.oid
      join pg_catalog.pg_type typ on a.atttypid = typ.oid
      join pg_catalog.pg_namespace dtns on typ.typnamespace = dtns.oid
      where c.relkind in ('r', 'v', 'p')
        and ns.nspname = any (current_schemas(false))
        and a.attnum >= 0 and not a.attisdropped
      order by ns.nspname, c.relname, a.attnum`.execute(this.#db);
    const tables = new Map<string, { table: TableMetadata; columns: ColumnMetadata[] }>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.includes(row.table)) continue;
      const key = `${row.schema}.${row.table}`;
      let entry = tables.get(key);
      if (!entry) {
        const columns: ColumnMetadata[] = [];
        entry = {
          table: { name: row.table, schema: row.schema, isView: row.table_type === 'v', columns },
          columns,
        };
        tables.set(key, entry);
      }
      entry.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        hasDefaultValue: row.has_default,
        isAutoIncrementing: row.auto_incrementing,
        isNullable: !row.not_null,
        ...(row.column_description === null ? {} : { comment: row.column_description }),
      });
    }
    return [...tables.values()].map((e) => e.table);
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}
