// Package local brings up what the local Harvest stack needs outside Go:
// MariaDB and Redis on this machine, installed with apt when missing and
// started when not answering. The stack itself lives in package
// deploy/local/stack; the command in deploy/local/cmd/harvest-stack.
package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Where the local services listen; the stack's env contract points here.
const (
	MySQLAddr = "127.0.0.1:3306"
	RedisAddr = "127.0.0.1:6379"
)

// EnsureServices makes MariaDB and Redis answer on MySQLAddr and
// RedisAddr: a no-op when both already do; otherwise it installs the
// missing packages (apt-get update, then apt-get install -y) and starts
// the servers, then makes sure root may log in over TCP without a password
// (the local stack's DSN). Progress goes to w.
func EnsureServices(ctx context.Context, w io.Writer) error {
	redisOK, mysqlOK := answers(RedisAddr), answers(MySQLAddr)
	if redisOK && mysqlOK {
		if err := checkRootLogin(ctx, w); err != nil {
			return err
		}
		return raiseConnectionLimit(ctx, w)
	}
	var missing []string
	if !redisOK && !exists("/usr/bin/redis-server") {
		missing = append(missing, "redis-server")
	}
	if !mysqlOK && !exists("/usr/sbin/mariadbd") {
		missing = append(missing, "mariadb-server")
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "harvest: installing %s with apt-get\n", strings.Join(missing, " "))
		if err := run(ctx, w, "apt-get", "update"); err != nil {
			return err
		}
		if err := run(ctx, w, "apt-get", append([]string{"install", "-y", "--no-install-recommends"}, missing...)...); err != nil {
			return err
		}
	}
	if !redisOK {
		fmt.Fprintln(w, "harvest: starting redis-server on", RedisAddr)
		if err := run(ctx, w, "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
			"--port", "6379", "--save", "", "--appendonly", "no"); err != nil {
			return err
		}
		if err := waitAnswer(ctx, RedisAddr, 20*time.Second); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	if !mysqlOK {
		fmt.Fprintln(w, "harvest: starting mariadbd on", MySQLAddr)
		if err := os.MkdirAll("/run/mysqld", 0o755); err != nil {
			return err
		}
		_ = run(ctx, io.Discard, "chown", "mysql:mysql", "/run/mysqld")
		if !exists("/var/lib/mysql/mysql") {
			if err := run(ctx, w, "mariadb-install-db", "--user=mysql", "--datadir=/var/lib/mysql"); err != nil {
				return err
			}
		}
		if err := run(ctx, w, "start-stop-daemon", "--start", "--oknodo", "--background",
			"--exec", "/usr/sbin/mariadbd", "--", "--user=mysql"); err != nil {
			return err
		}
		if err := waitAnswer(ctx, MySQLAddr, 60*time.Second); err != nil {
			return fmt.Errorf("mariadb: %w", err)
		}
	}
	if err := checkRootLogin(ctx, w); err != nil {
		return err
	}
	return raiseConnectionLimit(ctx, w)
}

// MinConnections is the connection limit the stack needs: every app keeps
// a pool of its own (OMS two), and a test run starts several stacks and
// test databases at once; Debian's default of 151 runs out under load.
const MinConnections = 2000

// raiseConnectionLimit lifts max_connections to MinConnections when lower.
// SET GLOBAL lasts until mariadbd restarts, when the next start sets it again.
func raiseConnectionLimit(ctx context.Context, w io.Writer) error {
	db, err := sql.Open("mysql", "root@tcp("+MySQLAddr+")/")
	if err != nil {
		return err
	}
	defer db.Close()
	var limit int
	if err := db.QueryRowContext(ctx, `SELECT @@GLOBAL.max_connections`).Scan(&limit); err != nil {
		return fmt.Errorf("mariadb max_connections: %w", err)
	}
	if limit >= MinConnections {
		return nil
	}
	fmt.Fprintf(w, "harvest: raising mariadb max_connections from %d to %d\n", limit, MinConnections)
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`SET GLOBAL max_connections = %d`, MinConnections)); err != nil {
		return fmt.Errorf("raise mariadb max_connections: %w", err)
	}
	return nil
}

// checkRootLogin makes root@127.0.0.1 log in without a password, as the
// stack's DSNs do. A fresh Debian MariaDB lets root in only through the
// unix socket; this adds password-less TCP access for local development.
func checkRootLogin(ctx context.Context, w io.Writer) error {
	err := pingRoot(ctx)
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 { // 1045: access denied
		return fmt.Errorf("mariadb at %s: %w", MySQLAddr, err)
	}
	fmt.Fprintln(w, "harvest: allowing root without password over TCP (local development only)")
	sqlText := "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';" +
		"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" +
		"ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;" +
		"FLUSH PRIVILEGES;"
	if err := run(ctx, w, "mariadb", "-uroot", "-e", sqlText); err != nil {
		return err
	}
	return pingRoot(ctx)
}

func pingRoot(ctx context.Context) error {
	db, err := sql.Open("mysql", "root@tcp("+MySQLAddr+")/")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func waitAnswer(ctx context.Context, addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !answers(addr) {
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering on %s after %s", addr, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// run runs name with args (through sudo when not root), output to w.
func run(ctx context.Context, w io.Writer, name string, args ...string) error {
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err == nil {
			args = append([]string{name}, args...)
			name = "sudo"
		}
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}
