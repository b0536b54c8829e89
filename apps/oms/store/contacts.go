package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/harvest/harvest/apps/oms/domain"
)

// SaveContactsTx writes what customer service changes of an order (its
// address and SMS recipients) in the caller's transaction, after UpdateTx
// saved the order's status, version and timeline entry of the change.
// They are not in save's statement: they change rarely, and every stage
// commit of every order would otherwise rewrite them.
func (s *Store) SaveContactsTx(ctx context.Context, tx *sql.Tx, o *domain.Order) error {
	addr, err := json.Marshal(addressRow(o.Address()))
	if err != nil {
		return err
	}
	var sms any // NULL: the address's phone
	if rs := o.CustomSMSRecipients(); len(rs) > 0 {
		b, err := json.Marshal(rs)
		if err != nil {
			return err
		}
		sms = b
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET address = ?, sms_recipients = ? WHERE id = ?`, addr, sms, o.ID()); err != nil {
		return fmt.Errorf("save contacts of %s: %w", o.ID(), err)
	}
	return nil
}
