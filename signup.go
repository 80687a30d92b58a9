package kiosko

import (
	"context"
)

// SignUpFrom is SignUp for a visitor at c.IP. The sign-up form still says
// when an address already has an account (the reader is signed in at
// once, so an answer that hid it would differ anyway); what it must not
// become is a way to test many addresses. Each answer "that address has an
// account" counts against the client's address, and past
// Settings.TakenPerClient of them in an hour every sign-up from there is
// refused with ETOOMANY (OWASP Authentication cheat sheet: where the
// answer cannot be the same, slow the question down).
func (s *Auth) SignUpFrom(ctx context.Context, req SignUpRequest, c Client) (*Account, error) {
	now := s.now()
	key := "signup:taken:ip:" + AddressKey(c.IP)
	if err := s.limit(ctx, key, s.takenPerClient(), now); err != nil {
		return nil, err
	}
	a, err := s.SignUp(ctx, req)
	if ErrorKey(err) == "error.email_taken" {
		s.recordFailures(ctx, now, key)
	}
	return a, err
}

func (s *Auth) takenPerClient() int {
	if s.Settings.TakenPerClient > 0 {
		return s.Settings.TakenPerClient
	}
	return 10
}
