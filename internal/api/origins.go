package api

// TrustOrigins lets pages on these origins (KIOSKO_EMBED_ORIGINS) make
// cookie-authenticated writes, which cross-origin protection otherwise
// refuses: the embed script calls the API from the publisher's page.
func (h *Handler) TrustOrigins(origins []string) error {
	for _, o := range origins {
		if err := h.csrf.AddTrustedOrigin(o); err != nil {
			return err
		}
	}
	return nil
}
