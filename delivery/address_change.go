package delivery

import (
	"context"
	"net/url"

	"newsletter/i18n"
)

// AddressChange is one email of a change of address.
type AddressChange struct {
	OldEmail, NewEmail string
	Token              string // the link's token: the confirming one, or in the notice the cancelling one
	Language           string // of the emails; "" is the default
}

// addressChangeData is what the address change emails see.
type addressChangeData struct {
	OldEmail, NewEmail string
	ConfirmURL         string // the link's
	CancelURL          string // the notice's
}

// SendAddressLink sends the new address the link that confirms the change.
func (e *Engine) SendAddressLink(ctx context.Context, a AddressChange) error {
	data := addressChangeData{OldEmail: a.OldEmail, NewEmail: a.NewEmail,
		ConfirmURL: e.BaseURL + "/preferences/address?token=" + url.QueryEscape(a.Token)}
	return e.sendIn(ctx, i18n.Of(a.Language), "address_confirm", "", e.From, a.NewEmail, data, nil)
}

// SendAddressNotice tells the old address that a move to the new one was
// asked, that nothing changes unless the new address confirms it, and how
// to cancel it.
func (e *Engine) SendAddressNotice(ctx context.Context, a AddressChange) error {
	data := addressChangeData{OldEmail: a.OldEmail, NewEmail: a.NewEmail,
		CancelURL: e.BaseURL + "/preferences/address/cancel?token=" + url.QueryEscape(a.Token)}
	return e.sendIn(ctx, i18n.Of(a.Language), "address_notice", "", e.From, a.OldEmail, data, nil)
}
