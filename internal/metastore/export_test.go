package metastore

import "testing"

// SchemaVersions is the schema version this code migrates to.
var SchemaVersions = len(migrations)

// CountMigrationRecords counts the rows of schema_migrations.
func CountMigrationRecords(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.queryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
