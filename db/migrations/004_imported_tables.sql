-- imported_tables: every table `shipbatch import` created (or replaced), so the agent server can allow exactly
-- those by default as batch sources (a table the database role merely can read is not offered to an agent).
CREATE TABLE IF NOT EXISTS imported_tables (
  schema_name  text NOT NULL,
  table_name   text NOT NULL,
  file_name    text NOT NULL,
  imported_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schema_name, table_name)
);
