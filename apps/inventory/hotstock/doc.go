// Package hotstock serves the sellable stock of hot SKUs (flash sales) from
// Redis, so thousands of buyers a second do not queue on one MariaDB row,
// and writes every Redis effect back to MariaDB durably.
//
// # Keys
//
// All keys live under one prefix (the app's, or a test's from
// testdb.Redis) with a {hash tag}, so they share a slot if Redis is ever
// clustered and tests never collide:
//
//	<p>{inv}:stock:<sku>  hash avail, epoch: the sellable counter of one hot SKU
//	<p>{inv}:res:<order>  hash fp, exp, l:<sku>=qty: the ledger entry of an order
//	<p>{inv}:events       stream of every take and return, for the write-back
//
// # Reserve
//
// One Lua script (reserveScript) checks every hot line of an order, and
// only when all suffice decrements them, writes the order's ledger entry
// and appends a "take" entry (lines and the counters after it) to the
// stream — atomically, so a counter change never exists without its
// ledger entry and stream entry. An existing ledger entry makes a retry
// idempotent (same fingerprint: REPEAT, nothing taken twice; other lines:
// CONFLICT). A missing counter answers MISSING and the caller rebuilds it.
// Returning stock (releaseScript) adds the ledger's quantities back,
// deletes the entry and appends a "return" entry; a second call finds no
// entry and does nothing.
//
// # Durability and crashes
//
// MariaDB's reservations table stays the authority on a reservation's
// status; Redis is the authority on the hot counter. Where the process may
// die, and why nothing is lost or doubled:
//
//   - after the script, before the reservation row commits: the ledger
//     entry and the stream entry exist. A retry of Reserve finds the ledger
//     (REPEAT) and commits the row without taking again. Without a retry
//     the write-back copies the take into hot_ledger, and the check-back
//     finds a TAKEN row past its expiry whose order has no reservation (or
//     a released one): it tombstones the order and returns the stock.
//   - after a release commits in MariaDB, before the script returns the
//     units: the row carries hot_pending=1 in the same transaction; the
//     check-back runs the (idempotent) return again and clears the flag.
//   - between reading stream entries and acknowledging them: the entries
//     stay pending in the consumer group; a restarted worker claims them
//     (XAUTOCLAIM) and applies them again. The write-back is idempotent:
//     hot_ledger rows and the stock mirror only move forward by stream id
//     (seq / wb_seq), so replaying old entries changes nothing.
//
// # Redis restarts (this Redis keeps nothing on disk)
//
// When a counter is missing, Rebuild recomputes it from MariaDB inside a
// transaction holding the stock row FOR UPDATE: available = on_hand −
// (held + confirmed hot parts), and recreates the ledger entries of those
// reservations so a later release returns their units exactly once. The
// new counter gets an epoch (> the old one, ≥ now in ms) stored in Redis and
// in stock.hot_epoch. Reserve's MariaDB transaction reads hot_epoch under a
// shared lock and refuses (domain.ErrStale, retried at once) when the
// counter it took from is older than the current rebuild — that take may
// have vanished with the old Redis. Releases take the same shared lock, so
// a rebuild sees each release either entirely before or entirely after it.
// Shared locks do not block one another, so ordinary flash-sale traffic
// still never serialises on the row.
package hotstock
