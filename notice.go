package kiosko

import "context"

// Notice kinds pushed to open pages (the event stream's event names).
const (
	NoticeDisplaced      = "displaced"
	NoticeSignedOut      = "signed_out"
	NoticeSharingWarning = "sharing_warning"
)

// Notice is a message pushed to the open pages of an account's devices.
type Notice struct {
	Kind      string `json:"kind"`
	AccountID int64  `json:"account_id"`
	// Device is the device told; empty means every device of the account.
	Device string `json:"device,omitempty"`
	// Session, when set, limits the notice to one session (signed_out).
	Session int64 `json:"session,omitempty"`
	// Other describes the device that took over (displaced).
	OtherName     string `json:"other_name,omitempty"`
	OtherLastSeen string `json:"other_last_seen,omitempty"`
	Seat          int64  `json:"seat,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Hub carries notices to the event streams of every node.
type Hub interface {
	Publish(ctx context.Context, n Notice) error
	// Subscribe returns notices for one device of an account (including
	// account-wide ones) until cancel is called.
	Subscribe(accountID int64, device string) (notices <-chan Notice, cancel func())
}
