package metastore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Drivers of Config.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config selects and locates the metadata database.
type Config struct {
	// Driver is "sqlite" (default: one embedded file) or "postgres" (one
	// database shared by every node of a scaled-out installation).
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string (URL or key=value; the
	// password is better left to PGPASSWORD or ~/.pgpass); for SQLite it
	// is the database file, by default <data.dir>/kansoku.db.
	DSN string `yaml:"dsn"`
	// MaxOpenConns bounds the connections this node holds to the database.
	// Every node holds its own: PostgreSQL's max_connections must exceed
	// the nodes times this.
	MaxOpenConns int `yaml:"max_open_conns"`
	// ConnMaxLifetime closes PostgreSQL connections older than this, so a
	// failover or a pooler's rebalancing reaches every node (0: never).
	ConnMaxLifetime model.Duration `yaml:"conn_max_lifetime"`
}

// DefaultConfig is the embedded SQLite database.
func DefaultConfig() Config {
	return Config{Driver: DriverSQLite, MaxOpenConns: 8, ConnMaxLifetime: model.Duration(30 * time.Minute)}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.String("metastore.driver", "Metadata database: sqlite (embedded) or postgres (shared by every node).", &c.Driver)
	f.String("metastore.dsn", "PostgreSQL connection string (postgres://user@host:5432/db?sslmode=...), or the SQLite file (default: <data.dir>/kansoku.db).", &c.DSN)
	f.Int("metastore.max-open-conns", "Connections this node opens to the metadata database at most.", &c.MaxOpenConns)
	f.Duration("metastore.conn-max-lifetime", "PostgreSQL connections are closed after this long (0: never).", &c.ConnMaxLifetime)
}

// Validate checks the configuration. The DSN is never repeated in an
// error: it may hold a password.
func (c *Config) Validate() error {
	switch c.Driver {
	case "", DriverSQLite:
	case DriverPostgres:
		if c.DSN == "" {
			return errors.New("dsn must be set for the postgres driver (--metastore.dsn)")
		}
		if _, err := pgx.ParseConfig(c.DSN); err != nil {
			// Not the parser's message: it quotes the DSN, and with it
			// whatever password a malformed one holds.
			return errors.New("dsn is not a PostgreSQL connection string (postgres://user@host:5432/db?sslmode=verify-full, or host=... dbname=...)")
		}
	default:
		return fmt.Errorf("driver %q: want sqlite or postgres", c.Driver)
	}
	if c.MaxOpenConns < 1 || c.MaxOpenConns > 1000 {
		return fmt.Errorf("max_open_conns %d: want 1 to 1000", c.MaxOpenConns)
	}
	if c.ConnMaxLifetime < 0 {
		return errors.New("conn_max_lifetime must not be negative")
	}
	return nil
}
